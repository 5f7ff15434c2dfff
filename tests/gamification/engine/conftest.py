"""Engine fixtures: no global daily cap unless a test sets one, so rule arithmetic stays visible."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask


@pytest.fixture(autouse=True)
def engine_settings(app: Flask) -> Iterator[None]:
    saved = {
        key: app.config[key]
        for key in ("POINTS_DAILY_COMMUNITY_CAP", "REFERRAL_ACTIVATION", "PROFILE_COMPLETION_LEVEL")
    }
    app.config["POINTS_DAILY_COMMUNITY_CAP"] = 0
    yield
    app.config.update(saved)
