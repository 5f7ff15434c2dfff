"""Moderation's tunable rules: defaults here, overridable as ``MODERATION_*`` keys in the app config."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app

DEFAULTS: dict[str, Any] = {
    # An item flagged by this many members is hidden at once, pending review.
    "MODERATION_FLAGS_TO_HIDE": 3,
    # A member's posts are held for review until this many have been approved.
    "MODERATION_HOLD_FIRST_POSTS": 2,
    # A post with more links than this is held for review (trust level below 2).
    "MODERATION_MAX_LINKS": 2,
    # Daily allowances per trust level: action -> count. Level 4 is unlimited (None).
    "MODERATION_ALLOWANCES": {
        0: {"topics": 3, "replies": 10, "likes": 20, "flags": 5, "invites": 0},
        1: {"topics": 10, "replies": 50, "likes": 50, "flags": 10, "invites": 5},
        2: {"topics": 30, "replies": 150, "likes": 100, "flags": 20, "invites": 10},
        3: {"topics": 100, "replies": 500, "likes": 300, "flags": 50, "invites": 30},
        4: {"topics": None, "replies": None, "likes": None, "flags": None, "invites": None},
    },
    # During a member's first day in the club, level-0 allowances are cut to these.
    "MODERATION_FIRST_DAY_ALLOWANCES": {"topics": 1, "replies": 5, "likes": 10, "flags": 3, "invites": 0},
    # What each automatic level needs (level 4 is only given by moderators).
    "MODERATION_TRUST_REQUIREMENTS": {
        1: {"days_visited": 2, "posts_read": 20, "approved_posts": 1, "likes_received": 0},
        2: {"days_visited": 10, "posts_read": 100, "approved_posts": 5, "likes_received": 5},
        3: {"days_visited": 50, "posts_read": 500, "approved_posts": 30, "likes_received": 30},
    },
}

# Content events whose member is limited by a daily allowance, and the allowance they use.
ALLOWANCE_EVENTS: dict[str, str] = {
    "topic.created": "topics",
    "post.created": "replies",
    "like.given": "likes",
    "invite.sent": "invites",
}
# Events that create a post-like item: subject to suspensions, silences, the word filter and holds.
POSTING_EVENTS = frozenset({"topic.created", "post.created"})


def setting(name: str) -> Any:
    return current_app.config.get(name, DEFAULTS[name])


@contextmanager
def gates_lifted(app: Flask) -> Iterator[None]:
    """No holds and no daily allowances while the block runs: for loading history (the demo club)
    and for tests of what content packages do on their own."""
    unlimited = {"topics": None, "replies": None, "likes": None, "flags": None, "invites": None}
    overrides = {
        "MODERATION_HOLD_FIRST_POSTS": 0,
        "MODERATION_MAX_LINKS": 10_000,
        "MODERATION_ALLOWANCES": {level: dict(unlimited) for level in range(5)},
        "MODERATION_FIRST_DAY_ALLOWANCES": dict(unlimited),
    }
    saved = {key: app.config[key] for key in overrides if key in app.config}
    app.config.update(overrides)
    try:
        yield
    finally:
        for key in overrides:
            if key in saved:
                app.config[key] = saved[key]
            else:
                app.config.pop(key, None)
