"""The load driver: ``python -m bench.run --members 200 --duration 5``.

Builds the data set (``bench.generate``), serves the portal with gunicorn (2 gthread
workers) on a free port against it, and a minimal Flask hello-world served the same way
as the ceiling; then ``wrk`` drives 16 connections for ``--duration`` seconds at each URL
that ``bench/sources/`` registered, and a table shows requests/s, p50 and p99 latency, and
each rate as a share of the ceiling.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, Request, build_opener

from bench.generate import add_size_arguments, build, default_database_url
from bench.registry import BENCH_PASSWORD, Context, Sizes, all_targets
from bench.serve import Gunicorn, app_settings, portal_env

WRK_MISSING = (
    "wrk is not installed. It is the load generator (a C program: accurate numbers on few cores).\n"
    "Install it with:  apt-get install -y wrk   (Debian/Ubuntu)   or   brew install wrk   (macOS)"
)


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def session_cookie(base: str, email: str) -> str:
    """Logs a generated member in through the form; returns the Cookie header for wrk."""
    cookies = HTTPCookieProcessor()
    opener = build_opener(cookies)
    page = opener.open(base + "/login", timeout=30).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if not token:
        raise SystemExit("no CSRF token on /login")
    body = urlencode({"csrf_token": token.group(1), "email": email, "password": BENCH_PASSWORD}).encode()
    opener.open(Request(base + "/login", data=body), timeout=30).read()
    header = "; ".join(f"{c.name}={c.value}" for c in cookies.cookiejar)
    if "session=" not in header:
        raise SystemExit(f"could not log in as {email}")
    return header


_LATENCY = re.compile(r"^\s*(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, *, duration: int, connections: int, threads: int, cookie: str | None = None) -> Result:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = {pct: float(value) * _UNITS[unit] for pct, value, unit in _LATENCY.findall(output)}
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors:.*", output)
    count = int(errors.group(1)) if errors else 0
    if socket_errors:
        count += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(0)))
    return Result(url, rps, latency.get("50", 0.0), latency.get("99", 0.0), count)


def print_table(results: list[Result], ceiling: float) -> None:
    width = max(len(r.name) for r in results)
    print()
    print(f"{'URL':<{width}}  {'req/s':>9}  {'p50 ms':>8}  {'p99 ms':>8}  {'% ceiling':>9}  {'errors':>6}")
    print("-" * (width + 50))
    for r in results:
        share = 100 * r.rps / ceiling if ceiling else 0
        print(f"{r.name:<{width}}  {r.rps:>9.1f}  {r.p50_ms:>8.2f}  {r.p99_ms:>8.2f}  {share:>8.1f}%  {r.errors:>6}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_size_arguments(parser)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per URL (default 10)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker (default 8)")
    parser.add_argument(
        "--warmup",
        type=int,
        default=5,
        help="seconds of unmeasured load on each URL first (default 5): fills caches, compiles templates",
    )
    parser.add_argument(
        "--with-scheduler",
        action="store_true",
        help="let the served portal run its periodic jobs (off by default: see bench/README.md)",
    )
    parser.add_argument("--only", action="append", default=[], help="measure only URLs whose label contains this")
    parser.add_argument("--skip-generate", action="store_true", help="reuse the last generated data set")
    args = parser.parse_args()

    if shutil.which("wrk") is None:
        raise SystemExit(WRK_MISSING)

    url = args.database_url or default_database_url()
    if args.skip_generate:
        manifest = json.loads(args.manifest.read_text())
        url = manifest["database_url"]
        ctx = Context(sizes=Sizes(args.members, args.topics, args.posts), ids=manifest["ids"], notes=manifest["notes"])
    else:
        print(f"generating: {args.members} members, {args.topics} topics, {args.posts} posts into {url}")
        sizes = Sizes(args.members, args.topics, args.posts)
        ctx = build(url, sizes, reset=args.reset or not args.database_url, manifest=args.manifest)

    work = Path(tempfile.mkdtemp(prefix="bench-"))
    # On a fresh data set every periodic job is due at the first request (digests, expiry, tier
    # reviews over every member); run inside a worker, that burst lands in whichever URL is
    # measured then. Large clubs run the jobs in a Celery worker instead.
    env = portal_env(
        app_settings(url, work, jobs_backend="thread"),
        LOGIN_RATE_LIMIT="10000 per minute",
        RUN_SCHEDULER="true" if args.with_scheduler else "false",
    )
    servers = {
        "ceiling": Gunicorn("bench.hello:app", env, workers=args.workers, threads=args.threads, log=work / "hello.log"),
        "portal": Gunicorn("wsgi:app", env, workers=args.workers, threads=args.threads, log=work / "portal.log"),
    }
    try:
        servers["ceiling"].wait_ready("/")
        servers["portal"].wait_ready("/healthz")
        load = {"duration": args.duration, "connections": args.connections, "threads": args.wrk_threads}
        print(
            f"load: {args.connections} connections, {args.duration} s per URL after {args.warmup} s of warm-up, "
            f"{args.workers} gthread workers"
        )
        warmup = {**load, "duration": args.warmup}
        if args.warmup:
            wrk(servers["ceiling"].url + "/", **warmup)
        hello = wrk(servers["ceiling"].url + "/", **load)
        hello.name = "hello-world (ceiling)"
        results = [hello]
        cookie = None
        for target in all_targets(ctx):
            if args.only and not any(part in target.name for part in args.only):
                continue
            if target.login and cookie is None:
                cookie = session_cookie(servers["portal"].url, ctx.notes["login_email"])
            url = servers["portal"].url + target.path
            if args.warmup:
                wrk(url, cookie=cookie if target.login else None, **warmup)
            result = wrk(url, cookie=cookie if target.login else None, **load)
            result.name = target.name
            results.append(result)
        print_table(results, hello.rps)
        if any(r.errors for r in results):
            print("\nsome URLs answered errors (non-2xx/3xx or socket errors): see the errors column")
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
