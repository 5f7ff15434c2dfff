"""Background work behind one small interface: ``enqueue(job, *args)``.

Backends, chosen by ``PORTAL_JOBS_BACKEND``:

* ``thread`` (default): an in-process thread pool; each job runs in its own app context.
* ``eager``: runs the job at once, in a fresh app context (tests).
* ``celery``: a Celery task on the Redis broker (``PORTAL_REDIS_URL``); run workers with
  ``celery -A wsgi:celery_app worker``.

A job is a module-level function marked ``@job``, called with JSON-serialisable
arguments, so that every backend can run it by name.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from celery import Celery
from flask import Flask, current_app

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

    app.extensions["celery"] = celery
    return celery


def init_app(app: Flask) -> JobQueue:
    queue = JobQueue(app)
    app.extensions["portal.jobs"] = queue
    return queue


def current_queue() -> JobQueue:
    return current_app.extensions["portal.jobs"]


def enqueue(fn: JobFunc, *args: Any, **kwargs: Any) -> None:
    """Queues ``fn(*args, **kwargs)`` on the current application's backend."""
    current_queue().enqueue(fn, *args, **kwargs)
