"""Signed links in help-desk mail: following a guest's ticket and rating it, without an account."""

from __future__ import annotations

from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

ACCESS_MAX_AGE = 180 * 24 * 3600


class InvalidTicketLink(Exception):
    """The link is forged, for another ticket or purpose, or expired."""


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"knowledge.tickets.{purpose}")


def make_link_token(purpose: str, ticket_id: int, email: str) -> str:
    return _serializer(purpose).dumps({"t": ticket_id, "e": email})


def read_link_token(purpose: str, token: str, max_age: int = ACCESS_MAX_AGE) -> dict[str, Any]:
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature) as exc:
        raise InvalidTicketLink() from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("t"), int):
        raise InvalidTicketLink()
    return payload
