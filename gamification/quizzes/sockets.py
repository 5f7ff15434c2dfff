"""Socket.IO handlers of quizzes: joining a live quiz's room and getting its current state."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_socketio import emit, join_room

from gamification.quizzes import live
from gamification.quizzes.models import LiveSession
from portal.db import db
from portal.extensions import socketio


def on_live_join(data: Any) -> None:
    """A signed-in member joins the live quiz's room and gets its state at once."""
    if not current_user.is_authenticated:
        return
    try:
        session_id = int((data or {}).get("session"))
    except (TypeError, ValueError, AttributeError):
        return
    session = db.session.get(LiveSession, session_id)
    if session is None:
        return
    join_room(live.room(session.id))
    emit("live_quiz.state", live.state(session))


def register() -> None:
    socketio.on_event("live_quiz.join", on_live_join)
