"""How quiz notifications read, registered with the notification kinds on import."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from portal.i18n import localize_digits
from portal.notifications.kinds import register_kind


def _passed(params: dict[str, Any]) -> str:
    return _(
        "You passed the quiz “%(title)s” with %(score)s%%.",
        title=params["title"],
        score=localize_digits(params["score"]),
    )


register_kind("quiz.passed", _passed)
