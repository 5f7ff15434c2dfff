"""Background jobs: the eager backend (tests), the in-process thread pool (default) and Celery on a real Redis."""

from __future__ import annotations

import email
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from flask import current_app, g

from portal import jobs, mail
from portal.config import ROOT
from tests.conftest import REDIS_URL

CALLS: list[dict[str, object]] = []


@jobs.job
def report_context(label: str, *, number: int = 0) -> str:
    """Tells the test where it ran: which app, which thread, and whether it shared the caller's ``g``."""
    CALLS.append(
        {
            "label": label,
            "number": number,
            "app": current_app._get_current_object(),
            "thread": threading.current_thread().name,
            "saw_callers_g": getattr(g, "marker", None) is not None,
        }
    )
    return label


@jobs.job
def explode() -> None:
    raise RuntimeError("job failed on purpose")


def not_a_job() -> None:
    """Not decorated: no backend could find it by name in another process."""


@pytest.fixture(autouse=True)
def _clean_calls():
    CALLS.clear()
    yield
    CALLS.clear()


def test_jobs_are_registered_by_their_dotted_name():
    assert jobs.registry["tests.portal.test_jobs.report_context"] is report_context


def test_enqueueing_an_undecorated_function_is_refused():
    with pytest.raises(RuntimeError, match="not a registered job"):
        jobs.enqueue(not_a_job)


def test_an_unknown_backend_is_refused(app, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "carrier-pigeon")
    with pytest.raises(RuntimeError, match="unknown PORTAL_JOBS_BACKEND"):
        jobs.JobQueue(app)


def test_the_celery_backend_needs_a_redis_url(app, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "celery")
    monkeypatch.setitem(app.config, "REDIS_URL", "")
    with pytest.raises(RuntimeError, match="needs PORTAL_REDIS_URL"):
        jobs.JobQueue(app)


# --- eager ------------------------------------------------------------------------------------------


def test_the_eager_backend_runs_the_job_at_once_in_a_fresh_app_context(app):
    assert jobs.current_queue().backend == "eager"
    g.marker = "the caller's"
    jobs.enqueue(report_context, "now", number=3)
    assert len(CALLS) == 1
    call = CALLS[0]
    assert (call["label"], call["number"], call["app"]) == ("now", 3, app)
    assert call["thread"] == threading.current_thread().name
    assert call["saw_callers_g"] is False


def test_an_eager_job_failure_reaches_the_caller():
    with pytest.raises(RuntimeError, match="on purpose"):
        jobs.enqueue(explode)


# --- thread pool --------------------------------------------------------------------------------------


@pytest.fixture
def thread_queue(app, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "thread")
    monkeypatch.setitem(app.config, "JOBS_THREADS", 2)
    queue = jobs.JobQueue(app)
    yield queue
    queue.shutdown()


def test_the_thread_backend_runs_jobs_in_its_pool_each_in_a_fresh_app_context(app, thread_queue):
    g.marker = "the caller's"
    for number in range(5):
        thread_queue.enqueue(report_context, "pooled", number=number)
    thread_queue.wait(timeout=10)
    assert sorted(call["number"] for call in CALLS) == [0, 1, 2, 3, 4]
    for call in CALLS:
        assert call["app"] is app
        assert call["thread"].startswith("portal-job")
        assert call["saw_callers_g"] is False


def test_a_failing_pooled_job_is_logged_and_does_not_stop_the_pool(thread_queue, caplog, monkeypatch):
    monkeypatch.setattr(logging.getLogger("portal.jobs"), "disabled", False)
    thread_queue.enqueue(explode)
    thread_queue.enqueue(report_context, "after the failure")
    thread_queue.wait(timeout=10)
    assert [call["label"] for call in CALLS] == ["after the failure"]
    assert any("job tests.portal.test_jobs.explode failed" in r.getMessage() for r in caplog.records)


# --- Celery on Redis ----------------------------------------------------------------------------------


@pytest.fixture
def celery_worker(tmp_path):
    """A real ``celery -A wsgi:celery_app worker`` process on the test Redis, writing mail into a temp folder."""
    mail_dir = tmp_path / "worker-mail"
    env = {
        **os.environ,
        "PORTAL_ENV": "development",
        "PORTAL_JOBS_BACKEND": "celery",
        "PORTAL_REDIS_URL": REDIS_URL,
        "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'worker.db'}",
        "PORTAL_MAIL_BACKEND": "file",
        "PORTAL_MAIL_FILE_DIR": str(mail_dir),
        "PORTAL_UPLOADS_ROOT": str(tmp_path / "uploads"),
        "PORTAL_SMS_FILE_DIR": str(tmp_path / "sms"),
        "PORTAL_SEARCH_INDEX_DIR": str(tmp_path / "search"),
    }
    log = (tmp_path / "worker.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "wsgi:celery_app", "worker", "--pool", "solo", "--loglevel", "INFO"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        # Starting takes seconds, and far longer on a busy machine: the test's clock starts once it listens.
        log_path = tmp_path / "worker.log"
        deadline = time.monotonic() + 180
        while "ready." not in log_path.read_text(errors="replace"):
            assert process.poll() is None, f"the worker exited:\n{log_path.read_text(errors='replace')[-3000:]}"
            assert time.monotonic() < deadline, "the worker was not ready within 180 s"
            time.sleep(0.2)
        yield mail_dir
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.mark.redis
@pytest.mark.slow
def test_the_celery_backend_hands_jobs_to_a_worker_process_through_redis(app, monkeypatch, celery_worker, tmp_path):
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "celery")
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    monkeypatch.setitem(app.extensions, "celery", None)  # restored after the test
    queue = jobs.JobQueue(app)
    queue.enqueue(mail.deliver_job, "sara@example.com", "Sent by a worker", "Hello from Celery.")
    queue.celery.close()

    deadline = time.monotonic() + 60
    delivered: list[Path] = []
    while time.monotonic() < deadline and not delivered:
        delivered = sorted(celery_worker.glob("*.eml")) if celery_worker.exists() else []
        time.sleep(0.2)
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert delivered, f"the worker delivered nothing within 60 s; its log:\n{log[-3000:]}"
    message = email.message_from_bytes(delivered[0].read_bytes())
    assert message["To"] == "sara@example.com"
    assert message["Subject"] == "Sent by a worker"
    assert "portal.run_job" in log  # it really went through the Celery task, not an in-process shortcut
