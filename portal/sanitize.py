"""Member-written text to safe HTML: Markdown (markdown-it-py), then bleach's allow-list and linkify.

Every piece of user content shown as HTML goes through :func:`render_markdown`. Raw
HTML in the source is not interpreted (it comes out as text); what Markdown produces
is then cleaned by an allow-list, so even a bug in the Markdown step cannot let a
script, an event handler or a style attribute through. Links, written or bare, get
``rel="nofollow ugc noopener"``; block elements get ``dir="auto"`` so that a Persian
paragraph and an English code line each take their own direction.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

import bleach
from bleach.linkifier import LinkifyFilter
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "strong", "em", "b", "i", "s", "del", "code", "pre", "kbd", "sup", "sub",
        "blockquote", "ul", "ol", "li", "h2", "h3", "h4", "h5", "h6", "a", "img",
        "table", "thead", "tbody", "tr", "th", "td", "span",
    }
)  # fmt: skip
# h1 is the page's own title; Markdown headings start at h2 (see _demote_headings).
BLOCKS_WITH_DIRECTION = ("p", "li", "blockquote", "h2", "h3", "h4", "h5", "h6", "td", "th")
ALLOWED_ATTRIBUTES: dict[str, list[str]] = {
    "a": ["href", "title", "rel", "class"],
    "img": ["src", "alt", "title", "width", "height", "loading"],
    "code": ["class"],
    "span": ["class"],
    "th": ["align", "dir"],
    "td": ["align", "dir"],
    **{tag: ["dir"] for tag in BLOCKS_WITH_DIRECTION if tag not in ("td", "th")},
    "ol": ["start"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"
_CODE_CLASS = re.compile(r"^language-[\w+#-]{1,30}$")
_HEADING = re.compile(r"^h([1-6])$")

_markdown = (
    MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False, "breaks": True})
    .enable("table")
    .enable("strikethrough")
)


def _open_with_direction(self, tokens, idx, options, env):  # type: ignore[no-untyped-def]
    tokens[idx].attrSet("dir", "auto")
    return self.renderToken(tokens, idx, options, env)


for _rule in ("paragraph_open", "list_item_open", "blockquote_open", "td_open", "th_open"):
    _markdown.add_render_rule(_rule, _open_with_direction)


def _demote_headings(self, tokens, idx, options, env):  # type: ignore[no-untyped-def]
    token = tokens[idx]
    level = int(_HEADING.match(token.tag).group(1))  # type: ignore[union-attr]
    token.tag = f"h{min(level + 1, 6)}"
    token.attrSet("dir", "auto")
    return self.renderToken(tokens, idx, options, env)


_markdown.add_render_rule("heading_open", _demote_headings)
_markdown.add_render_rule("heading_close", lambda self, tokens, idx, options, env: _close_heading(tokens[idx]))


def _close_heading(token) -> str:  # type: ignore[no-untyped-def]
    level = int(_HEADING.match(token.tag).group(1))  # type: ignore[union-attr]
    return f"</h{min(level + 1, 6)}>\n"


def _link_attributes(attrs: dict, new: bool = False) -> dict | None:
    """Every link: only safe schemes (or a local path), and rel="nofollow ugc noopener"."""
    href = attrs.get((None, "href"), "")
    if href.startswith(("javascript:", "data:", "vbscript:")):
        return None
    attrs[(None, "rel")] = LINK_REL
    attrs.pop((None, "target"), None)
    return attrs


def _keep_attribute(tag: str, name: str, value: str) -> bool:
    if name in ALLOWED_ATTRIBUTES.get(tag, ()):
        if name == "class" and tag == "code":
            return bool(_CODE_CLASS.match(value))
        if name == "class":
            return value in {"mention", "hashtag"}
        if name == "dir":
            return value in {"auto", "rtl", "ltr"}
        if name == "src":
            return value.startswith(("https://", "http://", "/")) and not value.startswith("//")
        if name in {"width", "height"}:
            return value.isdigit()
        return True
    return False


def _attribute_filter(tag: str, name: str, value: str) -> bool:
    return _keep_attribute(tag, name, value)


_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=_attribute_filter,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[partial(LinkifyFilter, callbacks=[_link_attributes], skip_tags={"pre", "code"}, parse_email=False)],
)


def clean_html(html: str) -> str:
    """Cleans already-made HTML with the allow-list, linkifying bare addresses."""
    return _cleaner.clean(html)


def render_markdown(text: str, *, preprocess: Callable[[str], str] | None = None) -> Markup:
    """Markdown source to safe HTML. ``preprocess`` may rewrite the rendered HTML before cleaning
    (forums use it to turn ``@name`` into links); whatever it returns is cleaned too."""
    html = _markdown.render(text or "")
    if preprocess is not None:
        html = preprocess(html)
    return Markup(clean_html(html))  # noqa: S704 - cleaned by the allow-list just above


def plain_text(text: str, limit: int | None = None) -> str:
    """The text of a Markdown source without markup (for snippets, mail and search)."""
    html = _markdown.render(text or "")
    stripped = bleach.clean(html, tags=set(), strip=True, strip_comments=True)
    collapsed = re.sub(r"\s+", " ", stripped).strip()
    collapsed = collapsed.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
    if limit is not None and len(collapsed) > limit:
        return collapsed[: limit - 1].rstrip() + "…"
    return collapsed
