"""Small waits for browser tests that work under the app's Content Security Policy."""

from __future__ import annotations

import time
from typing import Any


def wait_until(page: Any, expression: str, *, timeout: float = 30.0) -> Any:
    """Polls a JavaScript expression until it is truthy and returns its value.

    Playwright's ``wait_for_function`` polls inside the page with ``eval``, which the app's CSP
    (``script-src 'self'``, no ``unsafe-eval``) refuses whenever the first check is false;
    ``page.evaluate`` goes through the DevTools protocol, which the CSP does not govern.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout:.0f} s: {expression}")
        time.sleep(0.1)
