"""The SMS channel: a pluggable gateway chosen by ``PORTAL_SMS_BACKEND`` (console or file).

A real gateway (Kavenegar, Ghasedak, Twilio…) is one more backend class with a ``send``
method, registered in ``BACKENDS``; messages leave through the job queue after commit.
"""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from typing import Protocol

from flask import current_app

from portal import events, jobs
from portal.db import utcnow

log = logging.getLogger(__name__)


class SmsBackend(Protocol):
    def send(self, to: str, text: str) -> None: ...


class ConsoleSms:
    """Logs the message (development)."""

    def send(self, to: str, text: str) -> None:
        log.warning("sms to %s: %s", to, text)


class FileSms:
    """Writes each message as a JSON file under ``PORTAL_SMS_FILE_DIR`` (tests, demos)."""

    def send(self, to: str, text: str) -> None:
        directory = Path(current_app.config["SMS_FILE_DIR"])
        directory.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.json"
        payload = {"to": to, "text": text, "at": utcnow().isoformat()}
        (directory / name).write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")


BACKENDS: dict[str, type[SmsBackend]] = {"console": ConsoleSms, "file": FileSms}


def backend() -> SmsBackend:
    name = current_app.config["SMS_BACKEND"]
    if name not in BACKENDS:
        raise RuntimeError(f"unknown PORTAL_SMS_BACKEND {name!r}")
    return BACKENDS[name]()


@jobs.job
def deliver_sms(to: str, text: str) -> None:
    backend().send(to, text)


def send_sms(to: str, text: str) -> None:
    """Queues a text message to leave after the current transaction commits."""
    events.after_commit(deliver_sms, to, text)
