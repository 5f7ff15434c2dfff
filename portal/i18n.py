"""Languages, Jalali dates and Persian digits: the locale selector and the Jinja filters."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import jdatetime
from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_decimal
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup

from portal.db import utcnow
from portal.extensions import babel

RTL_LANGUAGES = {"fa", "ar", "he", "ur"}
LANGUAGE_NAMES = {"fa": "فارسی", "en": "English"}
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_TO_ASCII_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def select_locale() -> str:
    """``?lang=``, the member's saved language, the session's choice, then the default (English for the API)."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # jobs and CLI pass the language explicitly (force_locale)
        return current_app.config["DEFAULT_LANGUAGE"]
    if getattr(g, "forced_language", None) in languages:
        return g.forced_language
    if current_user and current_user.is_authenticated and current_user.language in languages:
        return current_user.language
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if request.path.startswith("/api/"):
        # Integration clients are programs: English unless they ask otherwise.
        return request.accept_languages.best_match(languages) or "en"
    return current_app.config["DEFAULT_LANGUAGE"]


def select_timezone() -> str:
    return current_app.config["TIMEZONE"]


def current_language() -> str:
    return str(get_locale() or current_app.config["DEFAULT_LANGUAGE"])


def is_rtl(language: str | None = None) -> bool:
    return (language or current_language()) in RTL_LANGUAGES


def to_persian_digits(text: Any) -> str:
    return str(text).translate(_PERSIAN_DIGITS)


def to_ascii_digits(text: str) -> str:
    """Maps Persian and Arabic-Indic digits to ASCII (for parsing what people type)."""
    return text.translate(_TO_ASCII_DIGITS)


def localize_digits(text: Any) -> str:
    """Persian digits in Persian pages, the text unchanged otherwise."""
    return to_persian_digits(text) if current_language() == "fa" else str(text)


def _local(value: datetime, timezone: str | None = None) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(ZoneInfo(timezone or current_app.config["TIMEZONE"]))


def format_local(value: datetime | date | None, style: str = "datetime") -> str:
    """Formats a timestamp for the reader: Jalali with Persian digits in fa, Gregorian in en.

    ``style`` is ``datetime``, ``date``, ``time`` or ``long`` (weekday and full date).
    """
    if value is None:
        return ""
    return _format_local(value, style, current_language(), current_app.config["TIMEZONE"])


# Pages show the same instants and counters many times (a topic page: every post's date and like
# count), and Babel's and jdatetime's formatting is most of a page's rendering time: each distinct
# (value, style, language, time zone) is formatted once per process.
@lru_cache(maxsize=8192)
def _format_local(value: datetime | date, style: str, language: str, timezone: str) -> str:
    local = _local(value, timezone) if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
    if language == "fa":
        j = jdatetime.datetime.fromgregorian(datetime=local.replace(tzinfo=None))
        day_month_year = f"{j.day} {jdatetime.date.j_months_fa[j.month - 1]} {j.year}"
        if style == "date":
            text = day_month_year
        elif style == "time":
            text = f"{j.hour:02d}:{j.minute:02d}"
        elif style == "long":
            weekday = jdatetime.date.j_weekdays_fa[j.weekday()]
            text = f"{weekday} {day_month_year}، ساعت {j.hour:02d}:{j.minute:02d}"
        else:
            text = f"{day_month_year}، {j.hour:02d}:{j.minute:02d}"
        return to_persian_digits(text)
    if style == "date":
        return format_date(local.date(), "medium", locale=language)
    if style == "time":
        return format_time(local.time(), "short", locale=language)
    if style == "long":
        return format_datetime(local, "EEEE d MMMM y, HH:mm", locale=language)
    return format_datetime(local, "d MMM y, HH:mm", locale=language)


def format_number(value: int | float | None) -> str:
    """Grouped digits in the reader's script (۱۲٬۳۴۵ in fa, 12,345 in en)."""
    if value is None:
        return ""
    # The locale's own numbering system carries its separators (٬ and ٫ in fa); Babel keeps
    # ASCII digits in every system, so the digits are mapped afterwards.
    return _format_number(value, current_language())


@lru_cache(maxsize=8192)
def _format_number(value: int | float, language: str) -> str:
    text = format_decimal(value, locale=language, numbering_system="default")
    return to_persian_digits(text) if language == "fa" else text


def datetime_tag(value: datetime | None, style: str = "datetime") -> Markup:
    """A ``<time>`` element with the machine-readable instant and the localised text."""
    if value is None:
        return Markup("")
    return _datetime_tag(value, style, current_language(), current_app.config["TIMEZONE"])


@lru_cache(maxsize=8192)
def _datetime_tag(value: datetime | date, style: str, language: str, timezone: str) -> Markup:
    iso = _local(value, timezone).isoformat() if isinstance(value, datetime) else value.isoformat()
    return Markup('<time datetime="{}">{}</time>').format(iso, _format_local(value, style, language, timezone))


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.filters["local_dt"] = format_local
    app.jinja_env.filters["time_tag"] = datetime_tag
    app.jinja_env.filters["digits"] = localize_digits
    app.jinja_env.filters["number"] = format_number

    @app.context_processor
    def language_context() -> dict[str, Any]:
        language = current_language()
        return {
            "current_language": language,
            "text_direction": "rtl" if is_rtl(language) else "ltr",
            "language_names": LANGUAGE_NAMES,
            "languages": app.config["LANGUAGES"],
            "now": utcnow(),
        }

    @app.before_request
    def remember_query_language() -> None:
        # A ?lang= link (e.g. from an email) shows that page in the language asked for.
        wanted = request.args.get("lang")
        if wanted in app.config["LANGUAGES"]:
            g.forced_language = wanted
