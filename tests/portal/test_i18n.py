"""Both languages: Jalali dates and Persian digits in fa, Gregorian in en, number filters, the switcher."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from flask import render_template_string
from flask_babel import force_locale

from portal import i18n
from tests.factories import PASSWORD, MemberFactory
from tests.portal.web import csrf_token, fresh, make_client, post_form, sign_in, use_language

# 20 March 2024 12:00 UTC is 15:30 in Tehran on 1 Farvardin 1403, the Persian new year.
NOWRUZ = datetime(2024, 3, 20, 12, 0, tzinfo=UTC)


def _render(app, language: str, source: str, **context) -> str:
    with app.test_request_context(), force_locale(language):
        return render_template_string(source, **context)


def _html_tag(html: str) -> str:
    match = re.search(r"<html[^>]*>", html)
    assert match, "no <html> tag"
    return match.group(0)


# --- dates ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("style", "persian"),
    [
        ("datetime", "۱ فروردین ۱۴۰۳، ۱۵:۳۰"),
        ("date", "۱ فروردین ۱۴۰۳"),
        ("time", "۱۵:۳۰"),
        ("long", "چهارشنبه ۱ فروردین ۱۴۰۳، ساعت ۱۵:۳۰"),
    ],
)
def test_persian_dates_are_jalali_in_tehran_time_with_persian_digits(app, style, persian):
    assert _render(app, "fa", "{{ when|local_dt(style) }}", when=NOWRUZ, style=style) == persian


@pytest.mark.parametrize(
    ("style", "english"),
    [
        ("datetime", "20 Mar 2024, 15:30"),
        ("date", "Mar 20, 2024"),
        ("long", "Wednesday 20 March 2024, 15:30"),
    ],
)
def test_english_dates_are_gregorian_with_ascii_digits(app, style, english):
    assert _render(app, "en", "{{ when|local_dt(style) }}", when=NOWRUZ, style=style) == english


def test_naive_timestamps_are_taken_as_utc(app):
    naive = NOWRUZ.replace(tzinfo=None)
    assert _render(app, "fa", "{{ when|local_dt }}", when=naive) == "۱ فروردین ۱۴۰۳، ۱۵:۳۰"


def test_a_plain_date_is_converted_without_a_timezone_shift(app):
    assert _render(app, "fa", "{{ day|local_dt('date') }}", day=date(2024, 3, 20)) == "۱ فروردین ۱۴۰۳"
    assert _render(app, "en", "{{ day|local_dt('date') }}", day=date(2024, 3, 20)) == "Mar 20, 2024"


def test_a_missing_date_renders_as_nothing(app):
    assert _render(app, "fa", "[{{ none|local_dt }}][{{ none|time_tag }}]", none=None) == "[][]"


def test_time_tag_carries_the_machine_readable_instant_and_the_local_text(app):
    fa = _render(app, "fa", "{{ when|time_tag('date') }}", when=NOWRUZ)
    en = _render(app, "en", "{{ when|time_tag('date') }}", when=NOWRUZ)
    assert fa == '<time datetime="2024-03-20T15:30:00+03:30">۱ فروردین ۱۴۰۳</time>'
    assert en == '<time datetime="2024-03-20T15:30:00+03:30">Mar 20, 2024</time>'


# --- digits and numbers ---------------------------------------------------------------------------------


def test_the_digits_filter_uses_persian_digits_only_in_persian(app):
    assert _render(app, "fa", "{{ 'Room 1024'|digits }}") == "Room ۱۰۲۴"
    assert _render(app, "en", "{{ 'Room 1024'|digits }}") == "Room 1024"


def test_the_number_filter_groups_digits_in_the_readers_script(app):
    assert _render(app, "fa", "{{ 1234567|number }}") == "۱٬۲۳۴٬۵۶۷"
    assert _render(app, "en", "{{ 1234567|number }}") == "1,234,567"
    assert _render(app, "fa", "{{ 12.5|number }}") == "۱۲٫۵"
    assert _render(app, "en", "{{ 12.5|number }}") == "12.5"
    assert _render(app, "fa", "[{{ none|number }}]", none=None) == "[]"


def test_typed_persian_and_arabic_digits_are_read_as_ascii():
    assert i18n.to_ascii_digits("۰۹۱۲ ٣٤٥") == "0912 345"


# --- choosing the language -------------------------------------------------------------------------------


def test_visitors_get_the_clubs_default_language(app):
    html = make_client(app).get("/").get_data(as_text=True)
    assert _html_tag(html) == '<html lang="fa" dir="rtl">'
    assert "bootstrap.rtl.min.css" in html


def test_the_language_switcher_flips_the_layout_for_the_visitor(app):
    client = make_client(app)
    response = client.post("/lang", data={"csrf_token": csrf_token(client), "lang": "en", "next": "/join"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/join"
    html = client.get("/join").get_data(as_text=True)
    assert _html_tag(html) == '<html lang="en" dir="ltr">'
    assert "bootstrap.rtl.min.css" not in html
    assert 'data-testid="switch-fa"' in html  # the switcher now offers the other language
    back = client.post("/lang", data={"csrf_token": csrf_token(client), "lang": "fa"})
    assert back.headers["Location"] == "/"
    assert _html_tag(client.get("/").get_data(as_text=True)) == '<html lang="fa" dir="rtl">'


def test_lang_in_the_address_shows_one_page_in_that_language_without_remembering_it(app):
    client = make_client(app)
    assert _html_tag(client.get("/?lang=en").get_data(as_text=True)) == '<html lang="en" dir="ltr">'
    assert _html_tag(client.get("/").get_data(as_text=True)) == '<html lang="fa" dir="rtl">'


def test_a_member_switching_language_saves_the_choice_on_the_account(app):
    member = MemberFactory(language="fa")
    client = make_client(app)
    sign_in(client, member)
    client.post("/lang", data={"csrf_token": csrf_token(client), "lang": "en"})
    assert fresh(member).language == "en"
    # The saved choice follows the member to another browser, whatever that browser was showing.
    other = make_client(app)
    use_language(other, "fa")
    post_form(other, "/login", {"email": member.email, "password": PASSWORD}, page="/login")
    assert _html_tag(other.get("/").get_data(as_text=True)) == '<html lang="en" dir="ltr">'


def test_a_members_saved_language_wins_over_the_browsers_session(app):
    member = MemberFactory(language="en")
    client = make_client(app)
    use_language(client, "fa")
    sign_in(client, member)
    assert _html_tag(client.get("/").get_data(as_text=True)) == '<html lang="en" dir="ltr">'
