"""The benchmark harness keeps working as packages add their generators: a tiny data set, and a clear wrk hint."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from bench.registry import Context, Sizes, all_targets, generators
from portal.config import ROOT

pytestmark = pytest.mark.slow


def _clean_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update(extra)
    return env


def test_the_accounts_generator_and_its_urls_are_registered():
    names = [name for name, _ in generators()]
    assert names[0] == "accounts"  # first, so that other packages' generators can use its members
    paths = [target.path for target in all_targets(Context(sizes=Sizes(), ids={"members": [7, 8, 9]}))]
    assert {"/", "/login", "/members/8", "/notifications/"} <= set(paths)


def test_generate_builds_a_migrated_database_with_the_asked_sizes(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    manifest = tmp_path / "bench.json"
    sizes = ["--members", "12", "--topics", "3", "--posts", "9"]
    result = subprocess.run(
        [sys.executable, "-m", "bench.generate", *sizes, "--database-url", url, "--manifest", str(manifest)],
        cwd=ROOT,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            members = connection.execute(sa.text("SELECT count(*) FROM members")).scalar()
            notifications = connection.execute(sa.text("SELECT count(*) FROM notifications")).scalar()
    finally:
        engine.dispose()
    assert members == 12
    assert notifications == 12 * 5
    recorded = json.loads(manifest.read_text())
    assert recorded["database_url"] == url
    assert len(recorded["ids"]["members"]) == 12


def test_the_driver_says_how_to_install_wrk_when_it_is_missing(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--members", "1", "--duration", "1"],
        cwd=ROOT,
        env=_clean_env(PATH=str(tmp_path)),  # an empty PATH: no wrk anywhere
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "apt-get install -y wrk" in result.stderr
