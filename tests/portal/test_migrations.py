"""Migrations build exactly the schema the models describe, whatever tables the packages add."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from pprint import pformat

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from portal.config import ROOT
from portal.db import include_in_autogenerate
from portal.extensions import db
from tests.helpers import run_python

MIGRATIONS = ROOT / "migrations"


def _differences(engine: sa.Engine) -> list:
    """What ``flask db migrate`` would write if run now: nothing, when migrations and models agree."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True, "include_object": include_in_autogenerate}
        )
        return compare_metadata(context, db.metadata)


def _current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _head() -> str:
    config = AlembicConfig(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"the migration chain must have one head, it has {heads}"
    return heads[0]


def test_the_migration_chain_is_linear_with_one_head():
    _head()


def test_the_test_database_was_built_by_migrations_to_head_and_matches_the_models(app):
    # The suite's own database (SQLite, or PostgreSQL with PORTAL_TEST_DATABASE_URL) was
    # empty at the start of the run and built by `upgrade` alone (see conftest.py).
    assert _current_revision(db.engine) == _head()
    diff = _differences(db.engine)
    assert diff == [], f"the models and the migrations disagree; autogenerate would write:\n{pformat(diff)}"


def test_flask_db_upgrade_on_a_fresh_sqlite_database_matches_the_models(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update(
        {
            "PORTAL_DATABASE_URL": url,
            "PORTAL_UPLOADS_ROOT": str(tmp_path / "uploads"),
            "PORTAL_MAIL_FILE_DIR": str(tmp_path / "mail"),
            "PORTAL_SMS_FILE_DIR": str(tmp_path / "sms"),
            "PORTAL_SEARCH_INDEX_DIR": str(tmp_path / "search"),
        }
    )
    result = run_python("-m", "flask", "--app", "wsgi", "db", "upgrade", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    engine = sa.create_engine(url)
    try:
        assert _current_revision(engine) == _head()
        diff = _differences(engine)
    finally:
        engine.dispose()
    assert diff == [], f"the models and the migrations disagree; autogenerate would write:\n{pformat(diff)}"


def _migrator(tmp_path: Path, name: str) -> tuple[str, Callable[[str, str], None]]:
    """A SQLite file's URL, and a function that runs ``flask db <command> <revision>`` on it."""
    url = f"sqlite:///{tmp_path / name}.db"
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update({"PORTAL_DATABASE_URL": url, "PORTAL_SEARCH_INDEX_DIR": str(tmp_path / "search")})

    def migrate(command: str, revision: str) -> None:
        result = run_python("-m", "flask", "--app", "wsgi", "db", command, revision, env=env)
        assert result.returncode == 0, result.stdout + result.stderr

    return url, migrate


def _add_members(connection: sa.Connection, *member_ids: int) -> None:
    for member_id in member_ids:
        connection.exec_driver_sql(
            "INSERT INTO members (id, email, password_hash, display_name, referral_code, created_at,"
            " updated_at) VALUES (?, ?, 'x', ?, ?, '2026-11-01 00:00:00', '2026-11-01 00:00:00')",
            (member_id, f"m{member_id}@example.org", f"M{member_id}", f"R{member_id}"),
        )


def test_the_point_boards_migration_keeps_every_total_both_ways(tmp_path: Path):
    # 0019 moved (period, period key, scope) of each total into point_boards: nothing is lost
    # going up, and going down restores the text keys.
    url, migrate = _migrator(tmp_path, "totals")
    old_rows = {
        (1, "all", "all", "", 30),
        (1, "month", "1405-09", "", 20),
        (1, "month", "1405-09", "c7", 5),
        (2, "all", "all", "", 12),
        (2, "week", "w2026-11-21", "", -3),
    }
    migrate("upgrade", "0018")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            _add_members(connection, 1, 2)
            connection.exec_driver_sql(
                "INSERT INTO point_totals (member_id, period, period_key, scope, points) VALUES (?, ?, ?, ?, ?)",
                sorted(old_rows),
            )
        engine.dispose()
        migrate("upgrade", "0019")
        with engine.connect() as connection:
            boards = connection.exec_driver_sql("SELECT period, period_key, scope FROM point_boards").all()
            joined = connection.exec_driver_sql(
                "SELECT t.member_id, b.period, b.period_key, b.scope, t.points FROM point_totals t"
                " JOIN point_boards b ON b.id = t.board_id"
            ).all()
        assert len(boards) == 4
        assert set(map(tuple, joined)) == old_rows
        engine.dispose()
        migrate("downgrade", "0018")
        with engine.connect() as connection:
            restored = connection.exec_driver_sql(
                "SELECT member_id, period, period_key, scope, points FROM point_totals"
            ).all()
        assert set(map(tuple, restored)) == old_rows
    finally:
        engine.dispose()


def test_the_totals_by_scope_migration_keeps_the_current_periods_both_ways(tmp_path: Path):
    # 0020 folds each member's boards of a scope into one row: all time, and the newest month and
    # week (an older month is on no leaderboard); going down gives those boards back.
    url, migrate = _migrator(tmp_path, "scopes")
    boards = [
        ("all", "all", ""),
        ("month", "1405-08", ""),
        ("month", "1405-09", ""),
        ("week", "w2026-11-21", ""),
        ("all", "all", "c7"),
        ("month", "1405-09", "c7"),
    ]
    totals = [(1, 1, 30), (1, 2, 11), (1, 3, 19), (1, 4, 4), (1, 5, 6), (1, 6, 6), (2, 1, 12), (2, 2, 12)]
    migrate("upgrade", "0019")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            _add_members(connection, 1, 2)
            connection.exec_driver_sql(
                "INSERT INTO point_boards (id, period, period_key, scope) VALUES (?, ?, ?, ?)",
                [(n, *board) for n, board in enumerate(boards, 1)],
            )
            connection.exec_driver_sql(
                "INSERT INTO point_totals (member_id, board_id, points) VALUES (?, ?, ?)", totals
            )
        engine.dispose()
        migrate("upgrade", "0020")
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT member_id, scope, points, month_key, month_points, week_key, week_points FROM point_totals"
            ).all()
        assert sorted(map(tuple, rows)) == [
            (1, 0, 30, 140509, 19, 20261121, 4),
            (1, 7, 6, 140509, 6, 0, 0),
            (2, 0, 12, 140508, 12, 0, 0),
        ]
        engine.dispose()
        migrate("downgrade", "0019")
        with engine.connect() as connection:
            restored = connection.exec_driver_sql(
                "SELECT t.member_id, b.period, b.period_key, b.scope, t.points FROM point_totals t"
                " JOIN point_boards b ON b.id = t.board_id"
            ).all()
        assert sorted(map(tuple, restored)) == sorted(
            [
                (1, "all", "all", "", 30),
                (1, "month", "1405-09", "", 19),
                (1, "week", "w2026-11-21", "", 4),
                (1, "all", "all", "c7", 6),
                (1, "month", "1405-09", "c7", 6),
                (2, "all", "all", "", 12),
                (2, "month", "1405-08", "", 12),
            ]
        )
    finally:
        engine.dispose()


def test_the_community_points_migration_moves_the_newest_shared_cap_counter_into_the_balance(tmp_path: Path):
    url, migrate = _migrator(tmp_path, "community")
    migrate("upgrade", "0020")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            _add_members(connection, 1, 2)
            connection.exec_driver_sql(
                "INSERT INTO point_balances (member_id, spendable, pending, qualifying, earned, streak_days)"
                " VALUES (?, 0, 0, 0, 0, 0)",
                [(1,), (2,)],
            )
            connection.exec_driver_sql(
                "INSERT INTO point_cap_counters (member_id, rule_id, period, period_key, points)"
                " VALUES (?, ?, ?, ?, ?)",
                [(1, 0, "day", "2026-11-23", 40), (1, 0, "day", "2026-11-24", 15), (1, 5, "day", "2026-11-24", 9)],
            )
        engine.dispose()
        migrate("upgrade", "0021")
        with engine.connect() as connection:
            balances = connection.exec_driver_sql(
                "SELECT member_id, community_day, community_points FROM point_balances ORDER BY member_id"
            ).all()
            counters = connection.exec_driver_sql("SELECT member_id, rule_id, points FROM point_cap_counters").all()
        assert list(map(tuple, balances)) == [(1, "2026-11-24", 15), (2, None, 0)]
        assert list(map(tuple, counters)) == [(1, 5, 9)]
        engine.dispose()
        migrate("downgrade", "0020")
        with engine.connect() as connection:
            restored = connection.exec_driver_sql(
                "SELECT member_id, rule_id, period, period_key, points FROM point_cap_counters ORDER BY rule_id"
            ).all()
        assert list(map(tuple, restored)) == [(1, 0, "day", "2026-11-24", 15), (1, 5, "day", "2026-11-24", 9)]
    finally:
        engine.dispose()
