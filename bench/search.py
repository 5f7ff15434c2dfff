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
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent
PERSIAN_WORDS = str.split(
    "سلام باشگاه مشتری امتیاز جایزه گوشی باتری شارژر پشتیبانی سفارش ارسال کیفیت قیمت تخفیف به‌روزرسانی "
    "نرم‌افزار تنظیمات حساب کاربری رمز عبور مسابقه آزمون عکس کارت هدیه فروشگاه محصول گارانتی تعمیر "
    "کارشناس راهنما مشکل راه‌حل سرعت اینترنت مودم روتر صفحه نمایش دوربین صدا بلندگو هدفون ساعت هوشمند "
    "می‌خواهم نمی‌دانم کتاب‌ها پیشنهاد تجربه ممنون عالی ضعیف خوب بد سریع کند جدید قدیمی"
)
ENGLISH_WORDS = str.split(
    "hello club member points reward phone battery charger support order shipping quality price discount "
    "update software settings account password contest quiz photo gift card store product warranty repair "
    "expert guide problem solution speed internet modem router screen camera sound speaker headphones "
    "smart watch running charging restarted pairing loyalty expires months question answers thanks great"
)
QUERIES = [
    "باتری",  # one common Persian word
    "گوشی باتری",  # two Persian words, all must match
    "امتیاز جایزه تخفیف",  # three Persian words
    "مي‌خواهم",  # Arabic yeh: folds to the Persian form
    "كتاب‌ها",  # Arabic kaf and a ZWNJ plural
    "نمی دانم",  # a space where the text has a ZWNJ
    "battery",
    "charging phone",  # English stemming: charging -> charg
    "loyalty points expire",
    "warranty repair expert",
    "router ۱۲۳",  # Persian digits fold to ASCII
    "zzzz nothing matches",
]


def _text(rng: random.Random, persian: bool, words: int) -> str:
    vocabulary = PERSIAN_WORDS if persian else ENGLISH_WORDS
    chosen = [rng.choice(vocabulary) for _ in range(words)]
    if rng.random() < 0.2:
        chosen.append(str(rng.randrange(1000)))
    if rng.random() < 0.1:
        chosen.append(rng.choice(ENGLISH_WORDS if persian else PERSIAN_WORDS))  # mixed text
    return " ".join(chosen)


def build(directory: Path, count: int, batch: int = 5000) -> float:
    from portal import search

    rng = random.Random(2026)
    backend = search.WhooshBackend(str(directory))
    start = time.perf_counter()
    now = datetime.now(UTC)
    for offset in range(0, count, batch):
        docs = []
        for n in range(offset, min(count, offset + batch)):
            persian = n % 3 != 0
            docs.append(
                search.Document(
                    kind="forum_post",
                    id=str(n + 1),
                    title=_text(rng, persian, 5),
                    body=_text(rng, persian, rng.randrange(20, 80)),
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
    backend.close()
    return time.perf_counter() - start


def measure(queries: list[str], repeats: int) -> list[tuple[str, int, float, float, float]]:
    from portal import search

    rows = []
    for query in queries:
        search.search(query)  # warm: the searcher opens once per process and thread
        walls, cpus = [], []
        total = 0
        for _ in range(repeats):
            wall, cpu = time.perf_counter(), time.process_time()
            results = search.search(query)
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
            total = results.total
        walls.sort()
        p95 = walls[min(len(walls) - 1, round(0.95 * (len(walls) - 1)))]
        rows.append((query, total, statistics.median(walls), p95, statistics.mean(cpus)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000, help="documents to index (default 100,000)")
    parser.add_argument("--repeats", type=int, default=50, help="timed runs per query (default 50)")
    parser.add_argument("--rebuild", action="store_true", help="build the index again even if it exists")
    args = parser.parse_args()

    directory = ROOT / "data" / f"search-{args.posts}"
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
        rows = measure(QUERIES, args.repeats)
    all_p95 = sorted(p95 for _q, _n, _p50, p95, _cpu in rows)
    print(f"\nWhoosh, {args.posts:,} posts, {args.repeats} runs per query, load average {os.getloadavg()[0]:.2f}")
    print(f"{'query':<26} {'hits':>7} {'p50 ms':>8} {'p95 ms':>8} {'cpu ms':>8}")
    for query, total, p50, p95, cpu in rows:
        print(f"{query:<26} {total:>7,} {p50:>8.1f} {p95:>8.1f} {cpu:>8.1f}")
    if not all(total for query, total, *_rest in rows if not query.startswith("zzzz")):
        raise SystemExit("some queries found nothing: the index is empty or the analyzer broke (try --rebuild)")
    worst = all_p95[-1]
    print(f"worst p95 {worst:.1f} ms (target < 100 ms): {'PASS' if worst < 100 else 'MISS'}")


if __name__ == "__main__":
    main()
