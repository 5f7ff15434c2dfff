"""Builds a benchmark database: ``python -m bench.generate --members 200 [--topics N --posts N]``.

SQLite under ``bench/data/`` by default (rebuilt each time), or any database given by
``--database-url`` (PostgreSQL: add ``--reset`` to empty its public schema first). The
migrations build the schema; every generator registered in ``bench/sources/`` fills it.
The ids it created are written beside it (``bench/data/bench.json``) for the load driver.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import sqlalchemy as sa

from bench.registry import Context, Sizes, generators

DATA = Path(__file__).resolve().parent / "data"
DEFAULT_DATABASE = DATA / "bench.db"
MANIFEST = DATA / "bench.json"


def default_database_url() -> str:
    return f"sqlite:///{DEFAULT_DATABASE}"


def _reset(url: str) -> None:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def build(url: str, sizes: Sizes, *, reset: bool, manifest: Path = MANIFEST) -> Context:
    """Migrates ``url`` to head and runs every registered generator; returns what they created."""
    from flask_migrate import upgrade

    from bench.serve import app_settings
    from portal.app import create_app
    from portal.extensions import db

    DATA.mkdir(parents=True, exist_ok=True)
    if reset:
        _reset(url)
    work = DATA / "instance"
    app = create_app(app_settings(url, work))
    ctx = Context(sizes=sizes)
    with app.app_context():
        upgrade()
        members = db.session.scalar(sa.text("SELECT count(*) FROM members"))
        if members:
            raise SystemExit(f"{url} already holds {members} members; use --reset to empty it first")
        for name, fn in generators():
            started = time.monotonic()
            fn(ctx)
            db.session.commit()
            print(f"  {name}: {time.monotonic() - started:.1f} s")
        db.session.remove()
        db.engine.dispose()
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps({"database_url": url, "ids": ctx.ids, "notes": ctx.notes}))
    return ctx


def add_size_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--members", type=int, default=200, help="members to create (default 200)")
    parser.add_argument("--topics", type=int, default=0, help="forum topics, for the generators that make them")
    parser.add_argument("--posts", type=int, default=0, help="forum posts, for the generators that make them")
    parser.add_argument("--database-url", default="", help="SQLAlchemy URL (default: SQLite under bench/data/)")
    parser.add_argument("--reset", action="store_true", help="empty a --database-url database first")
    parser.add_argument("--manifest", type=Path, default=MANIFEST, help="where the created ids are recorded")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_size_arguments(parser)
    args = parser.parse_args()
    url = args.database_url or default_database_url()
    os.environ.setdefault("PORTAL_ENV", "development")
    print(f"generating into {url}")
    sizes = Sizes(args.members, args.topics, args.posts)
    build(url, sizes, reset=args.reset or not args.database_url, manifest=args.manifest)


if __name__ == "__main__":
    main()
