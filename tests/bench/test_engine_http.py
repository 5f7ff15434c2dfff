"""``bench.engine_ingest --http`` drives the real batch endpoint: events sent through it are paid."""

from __future__ import annotations

import os
import re

import pytest
import sqlalchemy as sa

from bench import engine_http
from bench.serve import machine_ticks, stolen_share
from gamification.engine.models import Balance, StoredEvent
from portal.extensions import db
from tests.factories import MemberFactory
from tests.gamification.engine.factories import RuleFactory
from tests.helpers import run_python


def test_the_http_driver_pays_events_through_the_batch_endpoint(app):
    members = [MemberFactory().id for _ in range(3)]
    RuleFactory(event_type="survey.answered", code="survey", points=5, community=False)
    key = engine_http.create_key()

    def make_batch(serial: int) -> list[dict]:
        return [
            {"member_id": m, "event_type": "survey.answered", "idempotency_key": f"b{serial}-{m}", "attributes": {}}
            for m in members
        ]

    with engine_http.sender(app, "client", key) as send:
        rate, cpu_rate, count = engine_http.ingest(send, make_batch, 2)
    assert count == 6
    assert rate > 0
    assert cpu_rate > 0
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StoredEvent)) == 6
    assert db.session.scalars(sa.select(Balance.spendable).where(Balance.member_id.in_(members))).all() == [10] * 3


def test_the_driver_passes_on_the_endpoints_refusal(app):
    key = engine_http.create_key()
    with engine_http.sender(app, "client", key) as send:
        status, body = send(b'{"events": []}')
    assert status == 422
    assert body["error"]["fields"] == {"events": "too_short"}


@pytest.mark.slow
def test_the_gunicorn_mode_serves_the_batches_from_another_process(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    options = ["--http", "gunicorn", "--clients", "2", "--members", "40", "--batches", "3", "--batch-size", "10"]
    result = run_python("-m", "bench.engine_ingest", *options, "--work-dir", str(tmp_path), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("ingest over HTTP (gunicorn"))
    assert "2 sync workers, 2 clients in another process): 30 events in 10-event batches" in line
    assert "per server CPU-second" in line
    assert re.search(r"CPU time taken by the host: \d+%\)$", line), line
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'bench.db'}")
    try:
        with engine.connect() as connection:
            served = connection.execute(
                sa.text("SELECT count(*) FROM engine_events WHERE idempotency_key LIKE '%bench-3000000%'")
            ).scalar()
            paid = connection.execute(
                sa.text(
                    "SELECT count(*) FROM point_entries JOIN engine_events ON point_entries.event_id = engine_events.id"
                    " WHERE engine_events.idempotency_key LIKE '%bench-3000000%'"
                )
            ).scalar()
    finally:
        engine.dispose()
    assert served == 30  # the timed batches' events, stored once each by the served application
    assert paid > 0


def test_the_share_of_cpu_time_the_host_took_is_read_from_proc_stat():
    before, after = (100, 1_000), (130, 1_200)
    assert stolen_share(before, after) == pytest.approx(0.15)
    assert stolen_share(after, after) == 0.0
    stolen, total = machine_ticks()
    assert 0 <= stolen <= total
