"""Socket.IO helpers: rooms by name and emits that work from any process or job."""

from __future__ import annotations

from typing import Any

from portal.extensions import socketio


def member_room(member_id: int) -> str:
    """Every connected browser of a member joins this room."""
    return f"member:{member_id}"


def role_room(role: str) -> str:
    """Staff of one role join this room (e.g. the moderators' queue count)."""
    return f"role:{role}"


def emit_to_member(member_id: int, event: str, data: dict[str, Any]) -> None:
    socketio.emit(event, data, to=member_room(member_id))


def emit_to_room(room: str, event: str, data: dict[str, Any]) -> None:
    socketio.emit(event, data, to=room)


def emit_to_all(event: str, data: dict[str, Any]) -> None:
    socketio.emit(event, data)
