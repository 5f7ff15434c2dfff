"""Drives ``POST /api/v1/events/batch`` for ``bench.engine_ingest --http``: the whole HTTP path of an
outside system (key check, rate limit, JSON parsing and validation, per-item answers) around the service.

``client`` sends through Flask's test client (the WSGI stack without sockets); ``server`` starts a
threaded werkzeug server on 127.0.0.1 in this process and sends over one keep-alive connection, so
sockets and HTTP parsing count too. Both run client and server in one process: the CPU-second rate
covers both sides.

``gunicorn`` is the production setup: ``wsgi:app`` served by gunicorn's workers (``bench.serve``),
and the load driver (:func:`drive`) in a process of its own, so the client's JSON and sockets
neither count against the server nor share its cores' interpreter. Its CPU-second rate is per
second of the server's CPU (master and workers, read from ``/proc``).
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

import sqlalchemy as sa
from flask import Flask
from werkzeug.serving import make_server

from bench.serve import Gunicorn, machine_ticks, process_cpu_seconds, stolen_share, tree_cpu_seconds
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
    try:
        yield [_sender_on(connection, headers) for connection in connections]
    finally:
        for connection in connections:
            connection.close()
        server.shutdown()
        thread.join(10)


def _sender_on(connection: http.client.HTTPConnection, headers: dict[str, str]) -> Send:
    """Posts batches on one connection; it stays open while the server keeps it alive, and
    ``http.client`` opens it again after a server that closes every connection (sync workers)."""

    def send_socket(body: bytes) -> tuple[int, dict[str, Any]]:
        connection.request("POST", "/api/v1/events/batch", body=body, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw)
        except ValueError:  # an HTML error page (a proxy's, a crashed worker's): the status says what failed
            return response.status, {"body": raw[:500].decode(errors="replace")}

    return send_socket


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


Body = tuple[int, int, bytes]  # (serial, events, JSON body)


def bodies_of(make_batch: Callable[[int], list[dict[str, Any]]], batches: int, serial_start: int) -> list[Body]:
    bodies = []
    for serial in range(serial_start, serial_start + batches):
        events = [api_event(item) for item in make_batch(serial)]
        bodies.append((serial, len(events), json.dumps({"events": events}).encode()))
    return bodies


def _post_all(sends: list[Send], bodies: list[Body]) -> tuple[int, int]:
    """Posts ``bodies`` from one thread per sender, each taking the next body as it is done;
    returns (events, items refused by moderation's allowances). Raises the first failure."""
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

    threads = [threading.Thread(target=client, args=(send,)) for send in sends]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return totals["events"], totals["refused"]


def _ingest_concurrently(
    sends: list[Send], make_batch: Callable[[int], list[dict[str, Any]]], batches: int, serial_start: int
) -> tuple[float, float, int]:
    bodies = bodies_of(make_batch, batches, serial_start)
    started, cpu = time.perf_counter(), time.process_time()
    events, refused = _post_all(sends, bodies)
    elapsed, cpu_used = time.perf_counter() - started, time.process_time() - cpu
    if refused:
        print(f"refused by moderation's allowances: {refused} events")
    return events / elapsed, events / cpu_used, events


@dataclass
class ServedRun:
    """What :func:`drive` measured: the timed batches only, the warm-up left out."""

    events: int = 0
    refused: int = 0
    seconds: float = 0.0  # wall clock
    server_cpu: float = 0.0  # gunicorn's master and workers
    client_cpu: float = 0.0  # the load driver's process
    database_cpu: float | None = None  # PostgreSQL's backends of the workers' connections; None on SQLite
    load: float = 0.0  # the machine's 1-minute load average at the end
    stolen: float = 0.0  # the share of the machine's CPU time its host took during the run
    failure: str = ""

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    @property
    def server_cpu_rate(self) -> float:
        return self.events / self.server_cpu if self.server_cpu else 0.0


def _backend_pids(database_url: str) -> list[int]:
    """The PostgreSQL server processes of the other connections to this database (the workers'
    pools, opened by the warm-up); empty for another database."""
    if not database_url.startswith("postgresql"):
        return []
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return list(
                connection.scalars(
                    sa.text(
                        "SELECT pid FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
            )
    finally:
        engine.dispose()


def drive(
    port: int,
    key: str,
    warmup: list[Body],
    bodies: list[Body],
    clients: int,
    server_pid: int,
    database_url: str = "",
) -> ServedRun:
    """The load driver, run in a process of its own: posts ``warmup`` (not counted) from as many
    connections as it has batches, then ``bodies`` from ``clients`` keep-alive connections, one
    thread each, and reads the server's CPU (``server_pid`` and its children) around the timed part,
    and on PostgreSQL that of the database's server processes serving the workers (on this machine).
    A failed batch comes back as ``failure`` (the first one's message)."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def connect(count: int) -> list[http.client.HTTPConnection]:
        return [http.client.HTTPConnection("127.0.0.1", port, timeout=600) for _ in range(count)]

    run = ServedRun()
    warm = connect(max(1, len(warmup)))
    timed = connect(clients)
    try:
        _post_all([_sender_on(c, headers) for c in warm], warmup)
        sends = [_sender_on(c, headers) for c in timed]
        backends = _backend_pids(database_url)
        database_cpu = sum(process_cpu_seconds(pid) for pid in backends)
        ticks = machine_ticks()
        server_cpu, client_cpu, started = tree_cpu_seconds(server_pid), time.process_time(), time.perf_counter()
        run.events, run.refused = _post_all(sends, bodies)
        run.seconds = time.perf_counter() - started
        run.stolen = stolen_share(ticks, machine_ticks())
        run.client_cpu = time.process_time() - client_cpu
        run.server_cpu = tree_cpu_seconds(server_pid) - server_cpu
        if backends:
            run.database_cpu = sum(process_cpu_seconds(pid) for pid in backends) - database_cpu
    except (SystemExit, Exception) as exc:  # every failure goes back to the parent, told
        run.failure = f"{type(exc).__name__}: {exc}"
    finally:
        for connection in warm + timed:
            connection.close()
    run.load = os.getloadavg()[0]
    return run


def ingest_served(
    server: Gunicorn, key: str, warmup: list[Body], bodies: list[Body], clients: int, database_url: str = ""
) -> ServedRun:
    """Runs :func:`drive` in a fresh process (spawned, not forked: nothing of this process's
    application, sessions or connections comes along) against ``server``; raises on a failure,
    with the end of gunicorn's log."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        run = pool.submit(drive, server.port, key, warmup, bodies, clients, server.pid, database_url).result()
    if run.failure:
        raise SystemExit(f"{run.failure}\n--- the end of gunicorn's log ({server.log}):\n{server.log_tail()}")
    if run.refused:
        print(f"refused by moderation's allowances: {run.refused} events")
    return run
