"""Forum fixtures: a request-scoped client in English, and a fresh search index per test."""

from __future__ import annotations

import pytest

from portal import search
from tests.portal.web import make_client, use_language


@pytest.fixture
def web(app):
    client = make_client(app)
    use_language(client, "en")
    return client


@pytest.fixture(autouse=True)
def search_index(app, tmp_path):
    """Each test indexes into its own Whoosh directory, so the database rollback and the index agree."""
    previous = app.config["SEARCH_INDEX_DIR"]
    app.config["SEARCH_INDEX_DIR"] = str(tmp_path / "search")
    yield tmp_path / "search"
    search.close_backends()
    app.config["SEARCH_INDEX_DIR"] = previous


@pytest.fixture(autouse=True)
def views_written_at_once(app):
    """Views are written by the request that counts them (production batches them for a few seconds)."""
    previous = app.config.get("FORUM_VIEW_FLUSH_SECONDS")
    app.config["FORUM_VIEW_FLUSH_SECONDS"] = 0
    yield
    if previous is None:
        app.config.pop("FORUM_VIEW_FLUSH_SECONDS")
    else:
        app.config["FORUM_VIEW_FLUSH_SECONDS"] = previous


@pytest.fixture(autouse=True)
def _forums_alone(without_moderation_gates):
    """Forum behaviour on its own (moderation's tests cover its holds and allowances)."""
