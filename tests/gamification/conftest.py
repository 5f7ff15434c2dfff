"""Fixtures for the gamification tests: services' messages read in English outside requests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask_babel import force_locale


@pytest.fixture(autouse=True)
def english_messages(db_session) -> Iterator[None]:
    """Service errors raised outside a request are rendered in English, so tests can match them."""
    with force_locale("en"):
        yield


@pytest.fixture(autouse=True)
def _engine_and_games_alone(without_moderation_gates):
    """The engine, contests and quizzes on their own (moderation's tests cover its holds and allowances)."""
