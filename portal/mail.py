"""Outgoing mail transport, chosen by ``PORTAL_MAIL_BACKEND``: console, file or SMTP.

The file backend writes each message as an ``.eml`` file under ``PORTAL_MAIL_FILE_DIR``,
which is how tests (and the browser test) read the mail a member would receive.
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

from flask import current_app, has_request_context, url_for

from portal import events, jobs
from portal.db import utcnow

log = logging.getLogger(__name__)


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link for mail: from the request's host, or ``PORTAL_BASE_URL`` in jobs and CLI."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    base = current_app.config["BASE_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, _external=True, **values)


def build_message(to: str, subject: str, text: str, html: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4().hex}@bashgah>"
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return message


def deliver(message: EmailMessage) -> None:
    """Hands one message to the configured backend, now."""
    config = current_app.config
    backend = config["MAIL_BACKEND"]
    if backend == "console":
        log.warning("mail to %s: %s\n%s", message["To"], message["Subject"], message.get_body(("plain",)).get_content())
    elif backend == "file":
        directory = Path(config["MAIL_FILE_DIR"])
        directory.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
        (directory / name).write_bytes(message.as_bytes(policy=SMTP))
    elif backend == "smtp":
        with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=30) as smtp:
            if config["SMTP_STARTTLS"]:
                smtp.starttls()
            if config["SMTP_USERNAME"]:
                smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
            smtp.send_message(message)
    else:
        raise RuntimeError(f"unknown PORTAL_MAIL_BACKEND {backend!r}")


@jobs.job
def deliver_job(to: str, subject: str, text: str, html: str | None = None) -> None:
    deliver(build_message(to, subject, text, html))


def send_mail(to: str, subject: str, text: str, html: str | None = None) -> None:
    """Queues a message to leave after the current transaction commits, through the job queue."""
    events.after_commit(deliver_job, to, subject, text, html)
