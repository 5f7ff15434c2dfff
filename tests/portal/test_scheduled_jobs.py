"""Periodic jobs: claimed once per interval across processes, failures recorded, run from the CLI."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal import jobs
from portal.db import utcnow
from portal.extensions import db

RUNS: list[str] = []


@jobs.job
def tick_job() -> None:
    RUNS.append("tick")


@jobs.job
def failing_job() -> None:
    raise RuntimeError("the mail server is down")


def not_a_job() -> None:
    """Not decorated with @jobs.job."""


@pytest.fixture
def scheduled(app):
    """Only this module's two jobs are scheduled while a test runs (the club's own are set aside)."""
    RUNS.clear()
    club_schedules = app.extensions.get("portal.schedules", {})
    app.extensions["portal.schedules"] = {}
    jobs.schedule(tick_job, every=timedelta(hours=1), app=app)
    jobs.schedule(failing_job, every=timedelta(days=1), app=app)
    yield
    app.extensions["portal.schedules"] = club_schedules


def _row(fn):
    db.session.expire_all()
    return db.session.get(jobs.ScheduledJob, jobs.job_name(fn))


def test_a_due_job_runs_once_per_interval(scheduled):
    now = utcnow()
    assert jobs.job_name(tick_job) in jobs.run_due(now)
    assert jobs.run_due(now + timedelta(minutes=59)) == []
    assert jobs.job_name(tick_job) in jobs.run_due(now + timedelta(hours=1))
    assert RUNS == ["tick", "tick"]
    assert _row(tick_job).last_finished_at is not None


def test_a_slot_taken_by_another_process_is_not_run_again(scheduled):
    now = utcnow()
    entry = jobs.Schedule(jobs.job_name(tick_job), timedelta(hours=1))
    assert jobs._claim(entry, now) is True
    # Another process ticking a moment later finds the slot taken.
    assert jobs._claim(entry, now + timedelta(seconds=5)) is False
    assert RUNS == []


def test_a_failing_job_records_its_error_and_others_still_run(scheduled):
    started = jobs.run_due()
    assert set(started) == {jobs.job_name(tick_job), jobs.job_name(failing_job)}
    assert _row(failing_job).last_error == "RuntimeError: the mail server is down"
    assert _row(tick_job).last_error is None
    assert RUNS == ["tick"]


def test_only_registered_jobs_can_be_scheduled(app):
    with pytest.raises(RuntimeError, match="not a registered job"):
        jobs.schedule(not_a_job, every=timedelta(hours=1), app=app)


def test_the_scheduler_thread_runs_due_jobs_until_stopped(app, scheduled):
    db.session.commit()
    scheduler = jobs.Scheduler(app, tick=0.01)
    scheduler.start()
    try:
        deadline = time.monotonic() + 5
        while not RUNS and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        scheduler.stopped.set()
        scheduler.join(5)
    assert RUNS == ["tick"]
    assert not scheduler.is_alive()


def test_the_club_schedules_its_periodic_jobs(app):
    names = {entry.name for entry in jobs.schedules(app)}
    assert "gamification.engine.tasks.expire_points" in names
    assert "gamification.engine.tasks.prune_cap_counters" in names
    assert "knowledge.tickets.jobs.check_sla" in names
    assert "portal.api.webhooks.retry_due_deliveries" in names


def test_the_scheduler_is_not_started_in_tests_or_by_other_backends(app):
    assert app.config["RUN_SCHEDULER"] is False
    assert jobs.start_scheduler(app) is None


def test_cli_lists_runs_due_and_runs_one_job_by_name(app, scheduled):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["portal", "jobs", "run-due"])
    assert result.exit_code == 0, result.output
    assert "started 2" in result.output
    listing = runner.invoke(args=["portal", "jobs", "list"])
    assert "tick_job  every 1:00:00  last started 20" in listing.output
    assert "failed: RuntimeError: the mail server is down" in listing.output
    assert runner.invoke(args=["portal", "jobs", "run", "tick_job"]).exit_code == 0
    assert RUNS == ["tick", "tick"]
    unknown = runner.invoke(args=["portal", "jobs", "run", "nothing"])
    assert unknown.exit_code != 0
    assert "no single periodic job" in unknown.output


def test_the_claim_table_has_one_row_per_job(scheduled):
    jobs.run_due()
    jobs.run_due()
    names = db.session.scalars(sa.select(jobs.ScheduledJob.name)).all()
    assert sorted(names) == sorted([jobs.job_name(tick_job), jobs.job_name(failing_job)])
