"""Measures the points engine: batch ingest (events/s), top-100 monthly leaderboard and balance reads.

    .venv/bin/python -m bench.engine_ingest                       # SQLite in a temporary folder
    .venv/bin/python -m bench.engine_ingest --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
    .venv/bin/python -m bench.engine_ingest --http server   # also through POST /api/v1/events/batch
    .venv/bin/python -m bench.engine_ingest --http gunicorn --clients 2   # served by gunicorn, driven from outside

The PostgreSQL database's public schema is emptied first. ``--big`` also fills 100,000 members and
1,000,000 ledger entries (through the same batch path) before timing the reads.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import shutil
import statistics
import tempfile
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask_migrate import upgrade

from bench import engine_http, serve
from bench.serve import Gunicorn
from gamification.engine import catalog, demo, pipeline, queries, services
from gamification.engine import totals as period_totals
from gamification.engine.models import Balance, PointEntry, StoredEvent
from portal import bulk
from portal.accounts.models import Member
from portal.app import create_app
from portal.db import db, utcnow
from portal.errors import RateLimited
from portal.events import bus
from portal.moderation.models import TrustRecord

EVENT_MIX = [
    ("post.created", None),
    ("like.received", None),
    ("topic.created", None),
    ("survey.answered", None),
    ("quiz.passed", "points"),
    ("poll.voted", None),
    ("purchase.recorded", "amount"),
    ("contest.entered", "points"),
]


FORUM_TYPES = {"post.created", "like.received", "topic.created", "poll.voted"}


def _reset_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def _add_members(start: int, count: int) -> list[int]:
    """Members of a year's standing at trust level 2 (no first-day limits, first posts not held):
    moderation's gates run for every content event, as for the club's regulars."""
    now = utcnow() - timedelta(days=365)
    rows = [
        {
            "email": f"bench{n}@example.com",
            "display_name": f"Bench member {n}",
            "password_hash": "x",
            "referral_code": f"B{n:010d}",
            "role": "member",
            "is_disabled": False,
            "created_at": now,
            "updated_at": now,
        }
        for n in range(start, start + count)
    ]
    for chunk in range(0, len(rows), 5000):
        db.session.execute(sa.insert(Member.__table__), rows[chunk : chunk + 5000])
    ids = list(db.session.scalars(sa.select(Member.id).order_by(Member.id)))
    have = set(db.session.scalars(sa.select(TrustRecord.member_id)))
    trust = [
        {"member_id": m, "level": 2, "days_visited": 30, "posts_read": 300, "approved_posts": 10, "updated_at": now}
        for m in ids
        if m not in have
    ]
    for chunk in range(0, len(trust), 5000):
        db.session.execute(sa.insert(TrustRecord.__table__), trust[chunk : chunk + 5000])
    db.session.commit()
    return ids


def _batch(rng: random.Random, members: list[int], serial: int, size: int = 1000) -> list[dict[str, Any]]:
    items = []
    for n in range(size):
        event_type, needs = EVENT_MIX[n % len(EVENT_MIX)]
        member_id = rng.choice(members)
        item: dict[str, Any] = {
            "member_id": member_id,
            "event_type": event_type,
            "idempotency_key": f"bench-{serial}-{n}",
            "attributes": {"reference": f"r{serial}-{n}"},
        }
        if event_type in FORUM_TYPES:
            item["attributes"]["category_id"] = rng.randint(1, 8)
        if event_type == "like.received":
            item["attributes"]["actor_id"] = rng.choice(members)
        if needs == "amount":
            item["amount"] = rng.randint(1, 500) * 10_000
        if needs == "points":  # contests and quizzes announce their points; the default rules pay them
            item["amount"] = item["attributes"]["points"] = rng.choice((5, 10, 20))
        items.append(item)
    return items


def _ingest(
    members: list[int], batches: int, rng: random.Random, serial_start: int = 0, size: int = 1000
) -> tuple[float, float, int]:
    """Returns (events per wall-clock second, events per CPU second of this process, events)."""
    total_events, started, cpu = 0, time.perf_counter(), time.process_time()
    refused = [0]
    for serial in range(serial_start, serial_start + batches):
        items = _batch(rng, members, serial, size)
        results = services.record_events(items)
        db.session.commit()
        bad = [r for r in results if not hasattr(r, "event_id") and not isinstance(r, RateLimited)]
        refused[0] += sum(isinstance(r, RateLimited) for r in results)
        if bad:
            raise SystemExit(
                f"batch {serial}: {len(bad)} items failed, e.g. {bad[0]!r} {getattr(bad[0], 'fields', '')}"
            )
        total_events += len(items)
    elapsed, cpu_used = time.perf_counter() - started, time.process_time() - cpu
    if refused[0]:
        print(f"refused by moderation's allowances: {refused[0]} events")
    return total_events / elapsed, total_events / cpu_used, total_events


def _fill_big(members: list[int], rng: random.Random) -> list[int]:
    """100,000 members and 1,000,000 ledger entries spread over a year, written straight into the
    tables (the ingest path is measured above; this only sets the stage for the reads)."""
    started = time.perf_counter()
    more = 100_000 - len(members)
    members = _add_members(len(members), more) if more > 0 else members
    have = db.session.scalar(sa.select(sa.func.count()).select_from(PointEntry))
    now = utcnow()
    when = bulk.time_writer()
    totals: dict[tuple[int, str, str], int] = defaultdict(int)
    this = catalog.period_keys(now)
    rows = []
    for n in range(max(0, 1_000_000 - have)):
        member_id = members[n % len(members)]
        at = now - timedelta(days=rng.random() * 365)
        points = rng.randint(1, 20)
        keys = catalog.period_keys(at)
        for period in ("all", "month", "week"):
            if keys[period] == this[period]:
                totals[(member_id, period, keys[period])] += points
        rows.append(
            (
                member_id,
                "earn",
                "available",
                points,
                points,
                0,
                points,
                None,
                "bench",
                f"big{n}",
                "post.created",
                "post",
                f"big{n}",
                f"big:{n}",
                None,
                when(at),
                None,
                None,
                None,
                False,
                False,
                False,
            )
        )
        if len(rows) == 50_000:
            bulk.insert_rows("point_entries", pipeline.ENTRY_COLUMNS, rows)
            db.session.commit()
            rows = []
    bulk.insert_rows("point_entries", pipeline.ENTRY_COLUMNS, rows)
    period_totals.add({(p, k, "", m): v for (m, p, k), v in totals.items()})
    db.session.execute(sa.delete(Balance))
    db.session.execute(
        sa.insert(Balance).from_select(
            ["member_id", "spendable", "pending", "qualifying", "earned", "streak_days"],
            sa.select(
                PointEntry.member_id,
                sa.func.sum(PointEntry.amount),
                sa.literal(0),
                sa.func.sum(PointEntry.qualifying),
                sa.func.sum(PointEntry.amount),
                sa.literal(0),
            ).group_by(PointEntry.member_id),
        )
    )
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    else:
        db.session.connection().exec_driver_sql("ANALYZE")
        db.session.commit()
    count = db.session.scalar(sa.select(sa.func.count()).select_from(PointEntry))
    print(f"filled: {len(members)} members, {count} ledger entries in {time.perf_counter() - started:,.0f}s")
    return members


def _timed(fn: Any, repeat: int = 50) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
        db.session.rollback()
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


class _Statements:
    """Counts the SQL statements a block sends and keeps the last one (for its query plan)."""

    def __init__(self) -> None:
        self.count = 0
        self.last: tuple[str, Any] = ("", None)

    def __enter__(self) -> _Statements:
        sa.event.listen(db.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc: object) -> None:
        sa.event.remove(db.engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT")):
            self.count += 1
            self.last = (statement, params)


def _plan(fn: Any) -> tuple[int, str]:
    """How many statements ``fn`` sends, and the database's plan of the last one, on one line."""
    with _Statements() as seen:
        fn()
    statement, params = seen.last
    explain = "EXPLAIN " if db.engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
    rows = db.session.connection().exec_driver_sql(explain + statement, params).all()
    db.session.rollback()
    text = " | ".join(str(row[0] if len(row) == 1 else row[-1]).strip() for row in rows)
    return seen.count, text


def _without_other_subscribers() -> Any:
    """The bus with only the points engine on it (the engine's own cost); returns a restorer."""
    saved = {name: {k: list(v) for k, v in getattr(bus, name).items()} for name in ("_subscribers", "_effects")}
    bus._subscribers.clear()
    bus._effects.clear()
    bus.subscribe("*", services.on_event)

    def restore() -> None:
        for name, table in saved.items():
            getattr(bus, name).clear()
            getattr(bus, name).update(table)

    return restore


def _count(model: Any) -> int:
    count = db.session.scalar(sa.select(sa.func.count()).select_from(model))
    db.session.rollback()
    return int(count or 0)


def _served_ingest(args: argparse.Namespace, url: str, folder: Path, key: str, make_batch: Any) -> None:
    """``--http gunicorn``: ``wsgi:app`` under gunicorn on the bench's database, driven by
    ``engine_http.drive`` in a process of its own. Prints the line, and what landed in the tables."""
    warmup = engine_http.bodies_of(make_batch, 2 * args.workers, 25_000_000)  # two per worker
    bodies = engine_http.bodies_of(make_batch, args.batches, 30_000_000)  # built before the clock starts
    stored, entries = _count(StoredEvent), _count(PointEntry)
    db.session.remove()
    db.engine.dispose()  # no connection (nor SQLite lock) of this process stays open while gunicorn writes
    # After-commit jobs inline, as in the modes above; no periodic job lands in the measurement.
    env = serve.portal_env(serve.app_settings(url, folder), API_RATE_LIMIT="1000000 per minute")
    server = Gunicorn(
        "wsgi:app",
        env,
        workers=args.workers,
        threads=args.threads,
        worker_class=args.worker_class,
        timeout=300,
        log=folder / "gunicorn.log",
    )
    try:
        server.wait_ready("/healthz")
        run = engine_http.ingest_served(server, key, warmup, bodies, args.clients, url)
    finally:
        server.stop()
    workers = f"{args.workers} {args.worker_class} workers" + (
        f" x {args.threads} threads" if args.worker_class == "gthread" else ""
    )
    print(
        f"ingest over HTTP (gunicorn, {workers}, {args.clients} client{'s' if args.clients != 1 else ''} in another"
        f" process): {run.events:,} events"
        f" in {args.batch_size:,}-event batches: {run.rate:,.0f} events/s wall clock ({run.server_cpu_rate:,.0f} per"
        f" server CPU-second: {run.server_cpu:.1f} s over {run.seconds:.1f} s; the driver {run.client_cpu:.1f} s;"
        f" the machine's load: {run.load:.1f}; CPU time taken by the host: {run.stolen:.0%})"
    )
    if run.database_cpu is not None:
        both = run.server_cpu + run.database_cpu
        print(
            f"  PostgreSQL's server processes of the workers: {run.database_cpu:.1f} s of CPU;"
            f" {run.events / both:,.0f} events per CPU-second of gunicorn and PostgreSQL together"
        )
    stored, entries = _count(StoredEvent) - stored, _count(PointEntry) - entries
    print(f"landed: {stored:,} stored events (warm-up included), {entries:,} ledger entries")
    expected = sum(count for _, count, _ in warmup + bodies)
    if stored != expected:
        raise SystemExit(f"{expected:,} events were accepted, but {stored:,} were stored")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--big", action="store_true", help="also 100,000 members and 1,000,000 entries for the reads")
    parser.add_argument(
        "--http",
        nargs="?",
        const="client",
        choices=["client", "server", "gunicorn"],
        help="also ingest through POST /api/v1/events/batch with an API key (see bench.engine_http)",
    )
    parser.add_argument(
        "--clients",
        type=int,
        default=1,
        help="with --http server or gunicorn: post the batches from this many concurrent connections (threads)",
    )
    parser.add_argument("--workers", type=int, default=2, help="with --http gunicorn: worker processes (default 2)")
    parser.add_argument(
        "--worker-class",
        choices=["sync", "gthread"],
        default="sync",
        help="with --http gunicorn: gunicorn's worker class (default sync: see bench/README.md)",
    )
    parser.add_argument("--threads", type=int, default=1, help="with --worker-class gthread: threads per worker")
    parser.add_argument("--batch-size", type=int, default=1000, help="events per batch (default 1,000)")
    parser.add_argument("--work-dir", type=Path, help="the folder of the SQLite file and the logs (default: a new one)")
    parser.add_argument(
        "--no-freeze",
        action="store_true",
        help="skip gc.freeze() after start-up (wsgi.py freezes; this shows its share)",
    )
    args = parser.parse_args()

    folder = args.work_dir or Path(tempfile.mkdtemp(prefix="engine-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        _run(args, folder)
    finally:
        if args.work_dir is None:  # a folder of its own (its SQLite file, gunicorn's log): gone
            shutil.rmtree(folder, ignore_errors=True)


def _run(args: argparse.Namespace, folder: Path) -> None:
    size = args.batch_size
    url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
    if url.startswith("postgresql"):
        _reset_postgres(url)
    app = create_app(serve.app_settings(url, folder))
    if not args.no_freeze:
        gc.freeze()  # as wsgi.py does after start-up
    rng = random.Random(7)
    table: list[tuple[str, str]] = []
    with app.app_context():
        upgrade()
        demo.seed_rules_tiers_badges()
        db.session.commit()
        members = _add_members(0, args.members)
        dialect = db.engine.dialect.name
        print(f"database: {dialect}; {len(members)} members; subscribers: {len(bus._subscribers)}")
        _ingest(members, 2, rng, serial_start=10_000_000, size=size)  # warm-up
        rate, cpu_rate, count = _ingest(members, args.batches, rng, size=size)
        load = os.getloadavg()[0]
        table.append(
            (
                f"ingest, every subscriber ({count:,} events)",
                f"{rate:,.0f} events/s wall, {cpu_rate:,.0f} per CPU-second (load {load:.1f})",
            )
        )
        restore = _without_other_subscribers()
        try:
            rate, cpu_rate, count = _ingest(members, args.batches, rng, serial_start=20_000_000, size=size)
        finally:
            restore()
        load = os.getloadavg()[0]
        table.append(
            (
                f"ingest, the engine alone ({count:,} events)",
                f"{rate:,.0f} events/s wall, {cpu_rate:,.0f} per CPU-second (load {load:.1f})",
            )
        )
        if args.http == "gunicorn":
            key = engine_http.create_key()
            _served_ingest(args, url, folder, key, lambda s: _batch(rng, members, s, size))
        elif args.http:
            app.config["API_RATE_LIMIT"] = "100000 per minute"
            key = engine_http.create_key()
            with engine_http.sender(app, args.http, key) as send:
                engine_http.ingest(send, lambda s: _batch(rng, members, s, size), 2, serial_start=25_000_000)  # warm-up
                rate, cpu_rate, count = engine_http.ingest(
                    send, lambda s: _batch(rng, members, s, size), args.batches, serial_start=30_000_000
                )
            print(
                f"ingest over HTTP ({args.http}): {count} events in {size:,}-event batches: {rate:,.0f} events/s wall"
                f" clock ({cpu_rate:,.0f} per CPU-second; the machine's load: {os.getloadavg()[0]:.1f})"
            )
            if args.http == "server" and args.clients > 1:
                with engine_http.senders(app, key, args.clients) as sends:
                    rate, cpu_rate, count = engine_http.ingest(
                        sends, lambda s: _batch(rng, members, s, size), args.batches, serial_start=40_000_000
                    )
                print(
                    f"ingest over HTTP (server, {args.clients} concurrent clients): {count} events in {size:,}-event"
                    f" batches: {rate:,.0f} events/s wall clock ({cpu_rate:,.0f} per CPU-second; the machine's"
                    f" load: {os.getloadavg()[0]:.1f})"
                )

        if args.big:
            members = _fill_big(members, rng)

        member_id = members[len(members) // 2]
        entries = db.session.scalar(sa.select(sa.func.count()).select_from(PointEntry))
        db.session.rollback()
        median, p95 = _timed(lambda: queries.leaderboard("month", limit=100))
        table.append(("top-100 monthly leaderboard", f"p50 {median:.2f} ms, p95 {p95:.2f} ms"))
        queries_sent, plan = _plan(lambda: queries.leaderboard("month", limit=100))
        table.append(("  its plan", plan[:300]))
        median, p95 = _timed(lambda: queries.balance_of(member_id))
        table.append(("balance and tier read", f"p50 {median:.2f} ms, p95 {p95:.2f} ms"))
        queries_sent, plan = _plan(lambda: queries.balance_of(member_id))
        table.append(("  its queries and plan", f"{queries_sent} query: {plan[:200]}"))
        median, p95 = _timed(lambda: queries.rank_of(member_id, "month"))
        table.append(("a member's monthly rank", f"p50 {median:.2f} ms, p95 {p95:.2f} ms"))

    print(f"\n{dialect}: {len(members):,} members, {entries:,} ledger entries")
    width = max(len(name) for name, _ in table)
    for name, value in table:
        print(f"{name.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
