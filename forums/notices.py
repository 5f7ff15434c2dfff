"""How forum notifications read, registered in the notifications kinds registry (rendered in the reader's language)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from portal.notifications.kinds import register_kind

KINDS = ("forums.reply", "forums.mention", "forums.quote", "forums.like", "forums.new_topic")


def _reply(params: dict[str, Any]) -> str:
    return _("%(name)s replied in “%(topic)s”.", name=params["name"], topic=params["topic"])


def _mention(params: dict[str, Any]) -> str:
    return _("%(name)s mentioned you in “%(topic)s”.", name=params["name"], topic=params["topic"])


def _quote(params: dict[str, Any]) -> str:
    return _("%(name)s quoted your post in “%(topic)s”.", name=params["name"], topic=params["topic"])


def _like(params: dict[str, Any]) -> str:
    return _("%(name)s liked your post in “%(topic)s”.", name=params["name"], topic=params["topic"])


def _new_topic(params: dict[str, Any]) -> str:
    return _(
        "%(name)s started “%(topic)s” in %(category)s.",
        name=params["name"],
        topic=params["topic"],
        category=params["category"],
    )


def register() -> None:
    register_kind("forums.reply", _reply)
    register_kind("forums.mention", _mention)
    register_kind("forums.quote", _quote)
    register_kind("forums.like", _like)
    register_kind("forums.new_topic", _new_topic)


register()
