"""Socket.IO connection handling: a signed-in browser joins its member room (and its staff room)."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_socketio import join_room

from portal.extensions import socketio
from portal.notifications import services
from portal.realtime import member_room, role_room


def on_connect(auth: Any = None) -> None:
    """Anonymous readers may connect (for public rooms); members join their own room."""
    if current_user.is_authenticated:
        join_room(member_room(current_user.id))
        if current_user.role != "member":
            join_room(role_room(current_user.role))
        socketio.emit("unread", {"unread": services.unread_count(current_user.id)}, to=member_room(current_user.id))


def register() -> None:
    socketio.on_event("connect", on_connect)
