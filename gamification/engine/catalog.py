"""What the engine knows about events and time: the event types rules can use, and period keys."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import jdatetime
from flask import current_app
from flask_babel import lazy_gettext as _l

# Every event type a rule may pay for: those the portal's packages emit, plus the external ones.
EVENT_TYPES: dict[str, object] = {
    "post.created": _l("A forum reply was posted"),
    "topic.created": _l("A forum topic was started"),
    "like.received": _l("A like was received"),
    "mention.created": _l("The member was mentioned"),
    "answer.accepted": _l("An answer was accepted"),
    "poll.voted": _l("A poll was answered"),
    "article.published": _l("An article was published"),
    "comment.created": _l("A comment was posted"),
    "quiz.passed": _l("A quiz was passed"),
    "quiz.completed": _l("A quiz was completed"),
    "contest.entered": _l("A photo contest was entered"),
    "contest.voted": _l("A contest entry was voted for"),
    "contest.won": _l("A photo contest was won"),
    "survey.answered": _l("A survey was answered"),
    "event.attended": _l("An event was attended"),
    "ticket.rated": _l("A support ticket was rated"),
    "kb.article_helpful": _l("A knowledge-base article was marked helpful"),
    "profile.completed": _l("The profile was completed"),
    "member.verified": _l("The email address was confirmed"),
    "referral.joined": _l("A referred friend became active"),
    "purchase.recorded": _l("A purchase was recorded"),
    "purchase.refunded": _l("A purchase was refunded"),
    "newsletter.subscribed": _l("The newsletter was subscribed to"),
    "newsletter.unsubscribed": _l("The newsletter was unsubscribed from"),
    "review.written": _l("A product review was written"),
    "birthday": _l("Birthday"),
}

# Types that take points back instead of paying: they reverse what their source earned.
REVERSING_TYPES = {"purchase.refunded"}

# Events the engine itself emits; it never pays for them (that would loop).
OWN_TYPES = {"points.awarded", "points.reversed", "points.expired", "points.adjusted", "tier.changed", "badge.earned"}

MAX_AMOUNT = 10**15  # rials; anything larger is a typo or an attack
MAX_POINTS = 10**9


def event_type_choices() -> list[tuple[str, str]]:
    return [(code, f"{label} ({code})") for code, label in EVENT_TYPES.items()]


def rule_type_for(event_type: str) -> str:
    """``x.restored`` pays like ``x.created`` (a moderator restored removed content)."""
    if event_type.endswith(".restored"):
        return event_type[: -len("restored")] + "created"
    return event_type


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def period_keys(at: datetime) -> dict[str, str]:
    """The keys of the periods ``at`` falls in, in the club's time zone and the Persian calendar:
    ``day``, ``week`` (weeks start on Saturday), ``month`` (a Jalali month) and ``all``."""
    local = at.astimezone(_zone())
    day = local.date()
    # Python's weekday(): Monday 0 … Saturday 5; the Persian week starts on Saturday.
    week_start = day - timedelta(days=(day.weekday() - 5) % 7)
    jalali = jdatetime.date.fromgregorian(date=day)
    return {
        "day": day.isoformat(),
        "week": f"w{week_start.isoformat()}",
        "month": f"{jalali.year:04d}-{jalali.month:02d}",
        "all": "all",
    }


def local_day(at: datetime) -> str:
    return at.astimezone(_zone()).date().isoformat()
