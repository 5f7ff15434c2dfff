"""Drives ``POST /api/v1/events/batch`` for ``bench.engine_ingest --http``: the whole HTTP path of an
outside system (key check, rate limit, JSON parsing and validation, per-item answers) around the service.

``client`` sends through Flask's test client (the WSGI stack without sockets); ``server`` starts a
threaded werkzeug server on 127.0.0.1 in this process and sends over one keep-alive connection, so
sockets and HTTP parsing count too. Both run client and server in one process: the CPU-second rate
covers both sides.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

from portal.api import services as api_services
from portal.db import db

Send = Callable[[bytes], tuple[int, dict[str, Any]]]


def api_event(item: dict[str, Any]) -> dict[str, Any]:
    """The service's batch item as the API's body spells it (API.md)."""
    event = {"member": item["member_id"], "type": item["event_type"]}
    for key in ("amount", "idempotency_key", "attributes"):
        if item.get(key) is not None:
            event[key] = item[key]
    return event


def create_key() -> str:
    key = api_services.create_api_key(actor=None, name="Ingest bench", scopes=["events:write"]).plaintext
    db.session.commit()
    return key


@contextmanager
def sender(app: Flask, mode: str, key: str) -> Iterator[Send]:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    if mode == "client":
        client = app.test_client()

        def send_client(body: bytes) -> tuple[int, dict[str, Any]]:
            response = client.post("/api/v1/events/batch", data=body, headers=headers)
            return response.status_code, response.get_json()

        yield send_client
        return
    with senders(app, key, 1) as sends:
        yield sends[0]


@contextmanager
def senders(app: Flask, key: str, clients: int) -> Iterator[list[Send]]:
    """``clients`` keep-alive connections to one threaded werkzeug server in this process: each
    request is served on its own thread with its own database session, as by a gthread worker."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    connections = [http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=300) for _ in range(clients)]

    def sender_on(connection: http.client.HTTPConnection) -> Send:
        def send_socket(body: bytes) -> tuple[int, dict[str, Any]]:
            connection.request("POST", "/api/v1/events/batch", body=body, headers=headers)
            response = connection.getresponse()
            return response.status, json.loads(response.read())

        return send_socket

    try:
        yield [sender_on(connection) for connection in connections]
    finally:
        for connection in connections:
            connection.close()
        server.shutdown()
        thread.join(10)


def _check(serial: int, status: int, body: dict[str, Any]) -> int:
    """Raises on a failed batch; returns how many items moderation's allowances refused."""
    if status != 200:
        raise SystemExit(f"batch {serial}: HTTP {status}: {body}")
    # An allowance of moderation (429 for that item) is an answer, not a failure of the path.
    bad = [r for r in body["results"] if r["status"] not in (200, 201, 429)]
    if bad:
        raise SystemExit(f"batch {serial}: {len(bad)} items failed, e.g. {bad[0]}")
    return sum(r["status"] == 429 for r in body["results"])


def ingest(
    send: Send | list[Send], make_batch: Callable[[int], list[dict[str, Any]]], batches: int, serial_start: int = 0
) -> tuple[float, float, int]:
    """Returns (events per wall-clock second, events per CPU second of this process, events).

    With a list of senders, each posts from its own thread, taking the next batch as it is done
    (the batches' bodies are built first, so the clients' threads only send and read)."""
    if isinstance(send, list):
        return _ingest_concurrently(send, make_batch, batches, serial_start)
    total_events, refused, started, cpu = 0, 0, time.perf_counter(), time.process_time()
    for serial in range(serial_start, serial_start + batches):
        events = [api_event(item) for item in make_batch(serial)]
        status, body = send(json.dumps({"events": events}).encode())
        refused += _check(serial, status, body)
        total_events += len(events)
    elapsed, cpu_used = time.perf_counter() - started, time.process_time() - cpu
    if refused:
        print(f"refused by moderation's allowances: {refused} events")
    return total_events / elapsed, total_events / cpu_used, total_events


def _ingest_concurrently(
    sends: list[Send], make_batch: Callable[[int], list[dict[str, Any]]], batches: int, serial_start: int
) -> tuple[float, float, int]:
    bodies = []
    for serial in range(serial_start, serial_start + batches):
        events = [api_event(item) for item in make_batch(serial)]
        bodies.append((serial, len(events), json.dumps({"events": events}).encode()))
    lock = threading.Lock()
    queue = list(reversed(bodies))
    totals = {"events": 0, "refused": 0}
    failures: list[BaseException] = []

    def client(send: Send) -> None:
        while True:
            with lock:
                if not queue or failures:
                    return
                serial, count, body = queue.pop()
            try:
                status, answer = send(body)
                refused = _check(serial, status, answer)
            except BaseException as exc:  # handed to the main thread
                with lock:
                    failures.append(exc)
                return
            with lock:
                totals["events"] += count
                totals["refused"] += refused

    started, cpu = time.perf_counter(), time.process_time()
    threads = [threading.Thread(target=client, args=(send,)) for send in sends]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed, cpu_used = time.perf_counter() - started, time.process_time() - cpu
    if failures:
        raise failures[0]
    if totals["refused"]:
        print(f"refused by moderation's allowances: {totals['refused']} events")
    return totals["events"] / elapsed, totals["events"] / cpu_used, totals["events"]
