"""Measures member segments: count, contains, the first members page and the CSV rows, over a generated club.

    .venv/bin/python -m bench.segments                        # SQLite in a temporary folder, 50,000 members
    .venv/bin/python -m bench.segments --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

The PostgreSQL database's public schema is emptied first. Members get a city, an organisation, a
role, a last-seen time, a referrer for some, a balance with a tier, and about two purchase events each.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask_babel import force_locale
from flask_migrate import upgrade

from bench import serve
from gamification.engine import demo
from gamification.engine.models import Balance, StoredEvent
from portal.accounts.models import Member, Organisation
from portal.admin.segments import queries, services
from portal.app import create_app
from portal.db import db, utcnow

CITIES = ["تهران", "شیراز", "اصفهان", "تبریز", "مشهد", "Rasht", "Karaj"]
TIERS = [None, None, "silver", "gold", "platinum"]
SEGMENTS = {
    "city + organisation": lambda orgs: {"cities": "تهران، Rasht", "organisation_ids": orgs[:5]},
    "active, referred, silver+": lambda orgs: {
        "active_within_days": 30,
        "referred": True,
        "tiers": ["silver", "gold", "platinum"],
    },
    "points + purchases": lambda orgs: {
        "spendable_min": 200,
        "qualifying_max": 4000,
        "purchases_days": 90,
        "purchases_min_count": 2,
        "purchases_min_amount": 500_000,
    },
    "everything": lambda orgs: {
        "roles": ["member"],
        "cities": "تهران",
        "inactive_for_days": 7,
        "spendable_min": 100,
        "tiers": ["gold", "platinum"],
        "purchases_days": 180,
        "purchases_min_amount": 100_000,
    },
}


def _reset_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def _fill(count: int, rng: random.Random) -> list[int]:
    now = utcnow()
    db.session.execute(sa.insert(Organisation), [{"name": f"Organisation {n}"} for n in range(max(1, count // 100))])
    orgs = list(db.session.scalars(sa.select(Organisation.id).order_by(Organisation.id)))
    rows = [
        {
            "email": f"seg{n}@example.com",
            "display_name": f"Member {n}",
            "password_hash": "x",
            "referral_code": f"S{n:010d}",
            "role": "member" if n % 50 else "moderator",
            "city": rng.choice(CITIES),
            "organisation_id": rng.choice(orgs) if n % 4 else None,
            "last_seen_at": now - timedelta(hours=rng.randint(1, 24 * 200)) if n % 10 else None,
            "is_disabled": n % 97 == 0,
            "created_at": now,
            "updated_at": now,
        }
        for n in range(count)
    ]
    for chunk in range(0, len(rows), 5000):
        db.session.execute(sa.insert(Member.__table__), rows[chunk : chunk + 5000])
    ids = list(db.session.scalars(sa.select(Member.id).order_by(Member.id)))
    referred = [{"b_id": member_id, "r": rng.choice(ids[:100])} for member_id in ids[100::3]]
    db.session.execute(
        sa.update(Member.__table__)
        .where(Member.__table__.c.id == sa.bindparam("b_id"))
        .values(referred_by_id=sa.bindparam("r")),
        referred,
    )
    balances = []
    for member_id in ids:
        qualifying = rng.randint(0, 8000)
        balances.append(
            {
                "member_id": member_id,
                "spendable": rng.randint(0, 3000),
                "qualifying": qualifying,
                "tier_code": rng.choice(TIERS),
            }
        )
    for chunk in range(0, len(balances), 5000):
        db.session.execute(sa.insert(Balance.__table__), balances[chunk : chunk + 5000])
    events = []
    serial = 0
    for member_id in ids:
        for _ in range(rng.choice([0, 1, 2, 3, 4])):
            serial += 1
            events.append(
                {
                    "id": f"e{serial:012d}",
                    "type": "purchase.recorded",
                    "member_id": member_id,
                    "source_kind": "purchase",
                    "source_id": f"o{serial}",
                    "amount": rng.randint(10_000, 900_000),
                    "attributes": {},
                    "occurred_at": now - timedelta(days=rng.randint(0, 365)),
                    "recorded_at": now,
                }
            )
            if serial % 20 == 0:
                serial += 1
                events.append({**events[-1], "id": f"e{serial:012d}", "type": "purchase.refunded"})
    for chunk in range(0, len(events), 5000):
        db.session.execute(sa.insert(StoredEvent.__table__), events[chunk : chunk + 5000])
    db.session.commit()
    return orgs


def _timed(fn: Any, repeat: int = 20) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
        db.session.rollback()
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--members", type=int, default=50_000)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="segments-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
    if url.startswith("postgresql"):
        _reset_postgres(url)
    app = create_app(serve.app_settings(url, folder))
    rng = random.Random(11)
    with app.app_context(), force_locale("en"):
        upgrade()
        demo.seed_rules_tiers_badges()
        orgs = _fill(args.members, rng)
        events = db.session.scalar(sa.select(sa.func.count()).select_from(StoredEvent))
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
        print(f"database: {db.engine.dialect.name}; {args.members:,} members; {events:,} purchase events")
        made = {}
        for name, build in SEGMENTS.items():
            made[name] = services.create_segment(actor=None, name_fa=name, name_en=name, criteria=build(orgs)).id
        db.session.commit()
        member_ids = list(db.session.scalars(sa.select(Member.id).order_by(Member.id)))
        for name, segment_id in made.items():
            segment = queries.get(segment_id)
            size = queries.count(segment)
            count_ms, count_p95 = _timed(lambda segment_id=segment_id: queries.count(queries.get(segment_id)))
            queries.contains(segment_id, member_ids[0])  # the process learns the criteria once
            contains_ms, contains_p95 = _timed(
                lambda segment_id=segment_id: queries.contains(segment_id, rng.choice(member_ids)), repeat=200
            )
            page_ms, _p = _timed(lambda segment_id=segment_id: queries.members_page(queries.get(segment_id)))
            started = time.perf_counter()
            exported = sum(1 for _row in queries.export_rows(queries.get(segment_id)))
            export_s = time.perf_counter() - started
            print(
                f"{name:<26} {size:>7,} members | count {count_ms:7.1f} ms (p95 {count_p95:.1f})"
                f" | contains {contains_ms:5.2f} ms (p95 {contains_p95:.2f}) | first page {page_ms:6.1f} ms"
                f" | CSV rows {exported / export_s if export_s else 0:,.0f}/s"
            )
        list_ms, list_p95 = _timed(queries.list_with_counts, repeat=5)
        print(
            f"list page data, {len(made)} segments counted in one query: median {list_ms:.1f} ms (p95 {list_p95:.1f})"
        )
        print(f"load average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
