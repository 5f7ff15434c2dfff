"""The Markdown and HTML policy every piece of member content goes through."""

from __future__ import annotations

import pytest

from portal.sanitize import plain_text, render_markdown


def test_markdown_becomes_html_with_direction_on_blocks_and_headings_below_the_page_title():
    html = render_markdown("# عنوان\n\nسلام **دنیا**\n\n- one")
    assert '<h2 dir="auto">عنوان</h2>' in html
    assert '<p dir="auto">سلام <strong>دنیا</strong></p>' in html
    assert '<li dir="auto">one</li>' in html


def test_links_written_or_bare_get_nofollow_ugc_noopener():
    html = render_markdown("[site](https://example.com) and www.example.org")
    assert html.count('rel="nofollow ugc noopener"') == 2
    assert 'href="http://www.example.org"' in html


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "![x](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "<style>body{display:none}</style>",
        '<div style="position:fixed">x</div>',
        "<svg onload=alert(1)>",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "<iframe src=//evil.example></iframe>",
    ],
)
def test_no_payload_survives_as_markup(payload):
    html = str(render_markdown(payload)).lower()
    assert "<script" not in html
    assert "<style" not in html
    assert "<iframe" not in html
    assert "<svg" not in html
    assert "onerror=" not in html or "&lt;img" in html
    assert 'href="javascript' not in html
    assert 'href="data' not in html
    assert 'src="javascript' not in html
    assert "style=" not in html or "&lt;" in html


def test_code_blocks_keep_their_language_class_and_are_not_linkified():
    html = render_markdown("```python\nurl = 'https://example.com'\n```")
    assert '<code class="language-python">' in html
    assert "<a " not in html


def test_plain_text_strips_markup_and_shortens():
    assert plain_text("**bold** & [link](http://x)") == "bold & link"
    assert plain_text("word " * 50, limit=12).endswith("…")
    assert len(plain_text("word " * 50, limit=12)) == 12
