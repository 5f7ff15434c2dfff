"""Search speed with the Whoosh backend: ``python -m bench.search`` (100,000 posts by default).

Builds an index of generated forum posts in Persian and English under ``bench/data/search-<n>/``
(reused by later runs; ``--rebuild`` makes it again), then runs a fixed set of queries through
``portal.search.search`` -- the same call the search page makes, snippets and highlighting
included -- and prints, per query, the hits and the p50/p95 wall time and the mean CPU time.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.search_corpus import QUERIES, Writer

ROOT = Path(__file__).resolve().parent


def build(directory: Path, count: int, batch: int = 5000) -> float:
    from portal import search

    rng = random.Random(2026)
    persian_writer, english_writer = Writer(True, rng), Writer(False, rng)
    backend = search.WhooshBackend(str(directory))
    start = time.perf_counter()
    now = datetime.now(UTC)
    for offset in range(0, count, batch):
        docs = []
        for n in range(offset, min(count, offset + batch)):
            persian = n % 3 != 0
            writer = persian_writer if persian else english_writer
            docs.append(
                search.Document(
                    kind="forum_post",
                    id=str(n + 1),
                    title=writer.title(),
                    body=writer.body(),
                    url=f"/forums/p/{n + 1}",
                    language="fa" if persian else "en",
                    category=str(n % 8 + 1),
                    category_label=f"Forum {n % 8 + 1}",
                    author=str(n % 1000 + 1),
                    author_name=f"Member {n % 1000 + 1}",
                    created_at=now - timedelta(minutes=count - n),
                )
            )
        backend.index(docs)
        print(f"  indexed {offset + len(docs):,} / {count:,}", flush=True)
    if hasattr(backend, "optimize"):
        backend.optimize()
    backend.close()
    return time.perf_counter() - start


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(queries: list[tuple[str, str]], repeats: int) -> list[tuple[str, str, str, list[float], float]]:
    """Per query: its class, the query, the total shown, every wall time (ms) and the mean CPU time (ms)."""
    from portal import search

    rows = []
    for kind, query in queries:
        search.search(query)  # warm: the searcher opens once per process and thread
        walls, cpus = [], []
        shown = ""
        for _ in range(repeats):
            wall, cpu = time.perf_counter(), time.process_time()
            results = search.search(query)
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
            shown = getattr(results, "total_label", None) or f"{results.total:,}"
        rows.append((kind, query, shown, walls, statistics.mean(cpus)))
    return rows


def profile(query: str, repeats: int) -> None:
    """cProfile of ``repeats`` runs of one query, the 25 costliest functions by cumulative time."""
    import cProfile
    import pstats

    from portal import search

    search.search(query)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeats):
        search.search(query)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def _outdated(directory: Path) -> bool:
    """Whether ``directory`` holds an index built with another schema than the portal's."""
    from whoosh import index as windex

    from portal import search

    if not directory.exists() or not windex.exists_in(str(directory)):
        return False
    return not search.schema_is_current(windex.open_dir(str(directory)).schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000, help="documents to index (default 100,000)")
    parser.add_argument("--repeats", type=int, default=50, help="timed runs per query (default 50)")
    parser.add_argument("--rebuild", action="store_true", help="build the index again even if it exists")
    parser.add_argument("--profile", metavar="QUERY", help="profile this query with cProfile instead of the table")
    parser.add_argument("--only", metavar="CLASS", action="append", help="only queries of this class (repeatable)")
    args = parser.parse_args()

    directory = ROOT / "data" / f"search-{args.posts}"
    if not args.rebuild and _outdated(directory):
        print(f"the index in {directory} has an older schema: building it again")
        args.rebuild = True
    if args.rebuild and directory.exists():
        shutil.rmtree(directory)
    built = directory.exists() and any(directory.iterdir())  # before create_app, which makes the folder
    os.environ.setdefault("PORTAL_ENV", "development")
    from portal.app import create_app

    app = create_app(
        {"SEARCH_BACKEND": "whoosh", "SEARCH_INDEX_DIR": str(directory), "DATABASE_URL": "sqlite:///:memory:"}
    )
    with app.app_context():
        if not built:
            print(f"indexing {args.posts:,} posts into {directory}")
            print(f"  built in {build(directory, args.posts):.1f} s")
        if args.profile:
            profile(args.profile, args.repeats)
            return
        queries = [(k, q) for k, q in QUERIES if not args.only or k in args.only]
        rows = measure(queries, args.repeats)
    load = os.getloadavg()
    print(f"\nWhoosh, {args.posts:,} posts, {args.repeats} runs per query, load average {load[0]:.2f} {load[1]:.2f}")
    print(f"{'class':<9} {'query':<24} {'hits':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'cpu ms':>7}")
    for kind, query, shown, walls, cpu in rows:
        print(
            f"{kind:<9} {query:<24} {shown:>8} {statistics.median(walls):>8.1f} {_percentile(walls, 0.95):>8.1f}"
            f" {max(walls):>8.1f} {cpu:>7.1f}"
        )
    by_class: dict[str, list[float]] = defaultdict(list)
    for kind, _query, _shown, walls, _cpu in rows:
        by_class[kind].extend(walls)
    print(f"\n{'class':<9} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for kind, walls in by_class.items():
        print(f"{kind:<9} {statistics.median(walls):>8.1f} {_percentile(walls, 0.95):>8.1f} {max(walls):>8.1f}")
    if not all(shown not in ("0", "") for kind, _q, shown, *_rest in rows if kind != "none"):
        raise SystemExit("some queries found nothing: the index is empty or the analyzer broke (try --rebuild)")
    worst = max(_percentile(walls, 0.95) for *_head, walls, _cpu in rows)
    print(f"worst p95 {worst:.1f} ms (target < 100 ms): {'PASS' if worst < 100 else 'MISS'}")


if __name__ == "__main__":
    main()
