"""How contest notifications read, registered with the notification kinds on import."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from portal.i18n import current_language, localize_digits
from portal.notifications.kinds import register_kind


def _title(params: dict[str, Any]) -> str:
    return params["title_fa"] if current_language() == "fa" else params["title_en"]


def _results(params: dict[str, Any]) -> str:
    return _("The results of the contest “%(title)s” are out.", title=_title(params))


def _won(params: dict[str, Any]) -> str:
    return _(
        "Congratulations! Your photo took place %(rank)s in the contest “%(title)s”.",
        rank=localize_digits(params["rank"]),
        title=_title(params),
    )


def _approved(params: dict[str, Any]) -> str:
    return _("Your photo in the contest “%(title)s” was approved and is now in the gallery.", title=_title(params))


def _rejected(params: dict[str, Any]) -> str:
    return _("Your photo in the contest “%(title)s” was not accepted.", title=_title(params))


register_kind("contest.results", _results)
register_kind("contest.won", _won)
register_kind("contest.entry_approved", _approved)
register_kind("contest.entry_rejected", _rejected)
