"""Background work behind one small interface: ``enqueue(job, *args)``.

Backends, chosen by ``PORTAL_JOBS_BACKEND``:

* ``thread`` (default): an in-process thread pool; each job runs in its own app context.
* ``eager``: runs the job at once, in a fresh app context (tests).
* ``celery``: a Celery task on the Redis broker (``PORTAL_REDIS_URL``); run workers with
  ``celery -A wsgi:celery_app worker``.

A job is a module-level function marked ``@job``, called with JSON-serialisable
arguments, so that every backend can run it by name.

Periodic jobs (expiry, digests, SLA checks…) are scheduled by the composition root with
``schedule(job, every=timedelta(...))``. :func:`run_due` claims each due job in the
``scheduled_jobs`` table with one conditional UPDATE, so that several server processes
(or a restart) never run the same slot twice, and queues it. What calls ``run_due``:
a scheduler thread in the serving process (thread backend), Celery beat (celery
backend), or ``flask --app wsgi portal jobs run-due`` from cron.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import click
import sqlalchemy as sa
from celery import Celery
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import UTCDateTime, db, utcnow

log = logging.getLogger(__name__)

JobFunc = Callable[..., Any]
registry: dict[str, JobFunc] = {}


def job_name(fn: JobFunc) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def job(fn: JobFunc) -> JobFunc:
    """Marks a module-level function as a job that any backend can run by name."""
    registry[job_name(fn)] = fn
    return fn


class JobQueue:
    """The configured backend; one per application."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.backend = app.config["JOBS_BACKEND"]
        self._pool: ThreadPoolExecutor | None = None
        self._futures: set[Future[Any]] = set()
        self._lock = threading.Lock()
        self.celery: Any = None
        if self.backend == "celery":
            self.celery = _make_celery(app)
        elif self.backend not in {"thread", "eager"}:
            raise RuntimeError(f"unknown PORTAL_JOBS_BACKEND {self.backend!r}")

    def run(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Runs a registered job inside a fresh app context (and so a fresh DB session)."""
        fn = registry[name]
        with self.app.app_context():
            return fn(*args, **kwargs)

    def _run_logged(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            self.run(name, args, kwargs)
        except Exception:
            log.exception("job %s failed", name)
            raise

    def enqueue(self, fn: JobFunc, *args: Any, **kwargs: Any) -> None:
        name = job_name(fn)
        if registry.get(name) is not fn:
            raise RuntimeError(f"{name} is not a registered job; decorate it with @jobs.job")
        if self.backend == "eager":
            self.run(name, args, kwargs)
        elif self.backend == "celery":
            self.celery.send_task("portal.run_job", args=[name, list(args), kwargs])
        else:
            with self._lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self.app.config["JOBS_THREADS"], thread_name_prefix="portal-job")
                future = self._pool.submit(self._run_logged, name, args, kwargs)
                self._futures.add(future)
            future.add_done_callback(self._futures.discard)

    def wait(self, timeout: float | None = 30) -> None:
        """Blocks until the jobs queued so far in this process have finished (thread backend)."""
        pending = list(self._futures)
        if pending:
            wait(pending, timeout=timeout)

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def _make_celery(app: Flask) -> Any:
    broker = app.config["REDIS_URL"]
    if not broker:
        raise RuntimeError("PORTAL_JOBS_BACKEND=celery needs PORTAL_REDIS_URL")
    celery = Celery("portal", broker=broker)
    celery.conf.update(task_serializer="json", accept_content=["json"], broker_connection_retry_on_startup=True)

    @celery.task(name="portal.run_job")
    def run_job(name: str, args: list[Any], kwargs: dict[str, Any]) -> None:
        app.extensions["portal.jobs"].run(name, tuple(args), kwargs)

    @celery.task(name="portal.run_due")
    def run_due_task() -> None:
        with app.app_context():
            run_due()

    # `celery -A wsgi:celery_app beat` ticks the same claim-based scheduler.
    celery.conf.beat_schedule = {
        "portal-run-due": {"task": "portal.run_due", "schedule": float(app.config["SCHEDULER_TICK_SECONDS"])}
    }

    app.extensions["celery"] = celery
    return celery


class ScheduledJob(db.Model):
    """When a periodic job was last claimed and how its last run ended; one row per job."""

    __tablename__ = "scheduled_jobs"

    name: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.Text())


@dataclass(frozen=True)
class Schedule:
    name: str
    every: timedelta


def schedule(fn: JobFunc, *, every: timedelta, app: Flask | None = None) -> None:
    """Makes a registered job periodic in this application (called by the composition root)."""
    name = job_name(fn)
    if registry.get(name) is not fn:
        raise RuntimeError(f"{name} is not a registered job; decorate it with @jobs.job")
    target = app or current_app
    target.extensions.setdefault("portal.schedules", {})[name] = Schedule(name, every)


def schedules(app: Flask | None = None) -> list[Schedule]:
    return sorted((app or current_app).extensions.get("portal.schedules", {}).values(), key=lambda s: s.name)


def _claim(entry: Schedule, now: datetime) -> bool:
    """Takes the current slot of ``entry`` for this process; False when another took it."""
    session = db.session
    if session.get(ScheduledJob, entry.name) is None:
        try:
            with session.begin_nested():
                session.add(ScheduledJob(name=entry.name))
        except IntegrityError:
            pass  # another process inserted it first; the UPDATE below decides
    table = ScheduledJob.__table__
    claimed = session.execute(
        sa.update(table)
        .where(table.c.name == entry.name)
        .where(sa.or_(table.c.last_started_at.is_(None), table.c.last_started_at <= now - entry.every))
        .values(last_started_at=now)
    ).rowcount
    session.commit()
    return claimed == 1


@job
def run_scheduled(name: str) -> None:
    """Runs one periodic job and records how it ended."""
    error = None
    try:
        registry[name]()
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        error = f"{type(exc).__name__}: {exc}"[:2000]
        log.exception("scheduled job %s failed", name)
    db.session.execute(
        sa.update(ScheduledJob.__table__)
        .where(ScheduledJob.__table__.c.name == name)
        .values(last_finished_at=utcnow(), last_error=error)
    )
    db.session.commit()


def run_due(now: datetime | None = None) -> list[str]:
    """Queues every periodic job whose interval has passed since its last start; returns their names."""
    now = now or utcnow()
    started = []
    for entry in schedules():
        if _claim(entry, now):
            enqueue(run_scheduled, entry.name)
            started.append(entry.name)
    return started


class Scheduler(threading.Thread):
    """Calls :func:`run_due` every ``tick`` seconds in the serving process (thread backend)."""

    def __init__(self, app: Flask, tick: float = 30.0) -> None:
        super().__init__(name="portal-scheduler", daemon=True)
        self.app = app
        self.tick = tick
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.tick):
            try:
                with self.app.app_context():
                    run_due()
            except Exception:
                log.exception("the scheduler's tick failed")


def start_scheduler(app: Flask) -> Scheduler | None:
    """Starts the scheduler thread once per process, where this backend needs one."""
    if app.config["JOBS_BACKEND"] != "thread" or not app.config["RUN_SCHEDULER"]:
        return None
    existing = app.extensions.get("portal.scheduler")
    if existing is None:
        existing = app.extensions["portal.scheduler"] = Scheduler(app, app.config["SCHEDULER_TICK_SECONDS"])
        existing.start()
    return existing


def init_app(app: Flask) -> JobQueue:
    queue = JobQueue(app)
    app.extensions["portal.jobs"] = queue
    if queue.backend == "thread" and app.config["RUN_SCHEDULER"]:

        @app.before_request
        def _start_scheduler_once() -> None:
            # Started by the first request, so only serving processes run it (not the CLI).
            start_scheduler(app)

    return queue


@click.group("jobs")
def jobs_cli() -> None:
    """Periodic background jobs."""


@jobs_cli.command("list")
@with_appcontext
def list_command() -> None:
    """List the periodic jobs, their interval and their last run."""
    rows = {row.name: row for row in db.session.scalars(sa.select(ScheduledJob))}
    for entry in schedules():
        row = rows.get(entry.name)
        last = row.last_started_at.isoformat(timespec="seconds") if row and row.last_started_at else "never"
        failed = f"  failed: {row.last_error}" if row and row.last_error else ""
        click.echo(f"{entry.name}  every {entry.every}  last started {last}{failed}")


@jobs_cli.command("run-due")
@with_appcontext
def run_due_command() -> None:
    """Run the periodic jobs that are due (for cron, when no server process runs the scheduler)."""
    started = run_due()
    current_queue().wait()
    click.echo(f"started {len(started)}: {', '.join(started) or '-'}")


@jobs_cli.command("run")
@click.argument("name")
@with_appcontext
def run_command(name: str) -> None:
    """Run one periodic job now, whatever its schedule."""
    known = {entry.name for entry in schedules()}
    matches = [full for full in known if full == name or full.endswith("." + name)]
    if len(matches) != 1:
        raise click.ClickException(f"no single periodic job named {name!r}; see `portal jobs list`")
    run_scheduled(matches[0])
    click.echo(f"ran {matches[0]}")


def current_queue() -> JobQueue:
    return current_app.extensions["portal.jobs"]


def enqueue(fn: JobFunc, *args: Any, **kwargs: Any) -> None:
    """Queues ``fn(*args, **kwargs)`` on the current application's backend."""
    current_queue().enqueue(fn, *args, **kwargs)
