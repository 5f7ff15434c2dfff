"""The registry of notification kinds: each package registers how its notifications read.

Texts are stored as a kind and parameters, not as sentences, so that a member who
switches language reads every notification in the new language.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

_kinds: dict[str, Callable[[dict[str, Any]], str]] = {}


def register_kind(kind: str, render: Callable[[dict[str, Any]], str]) -> None:
    _kinds[kind] = render


def render_text(kind: str, params: dict[str, Any]) -> str:
    render = _kinds.get(kind)
    if render is None:
        return _("You have a new notification.")
    try:
        return render(params)
    except (KeyError, TypeError, ValueError):
        return _("You have a new notification.")


ROLE_NAMES = {"member": _l("member"), "moderator": _l("moderator"), "agent": _l("support agent"), "admin": _l("admin")}


def _role_changed(params: dict[str, Any]) -> str:
    return _("Your role in the club is now: %(role)s.", role=ROLE_NAMES.get(params["role"], params["role"]))


def _welcome(params: dict[str, Any]) -> str:
    return _("Welcome to the club, %(name)s! Complete your profile to get started.", name=params["name"])


def _email_changed(params: dict[str, Any]) -> str:
    return _("Your account's email address was changed.")


def _password_changed(params: dict[str, Any]) -> str:
    return _("Your password was changed. If this was not you, reset it now.")


register_kind("account.role_changed", _role_changed)
register_kind("account.welcome", _welcome)
register_kind("account.email_changed", _email_changed)
register_kind("account.password_changed", _password_changed)
