"""gunicorn on 127.0.0.1 and a free port, for the load drivers (``bench.run``, ``bench.engine_ingest``),
and the settings a bench's application runs with."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def app_settings(url: str, folder: Path, *, jobs_backend: str = "eager") -> dict[str, str]:
    """A bench's application settings, for an app in the bench's process and (through
    :func:`portal_env`) for the one gunicorn serves; ``eager``: after-commit jobs run inline."""
    return {
        "ENV_NAME": "development",
        "DATABASE_URL": url,
        "JOBS_BACKEND": jobs_backend,
        "UPLOADS_ROOT": str(folder / "uploads"),
        "MAIL_FILE_DIR": str(folder / "mail"),
        "SMS_FILE_DIR": str(folder / "sms"),
        "SEARCH_INDEX_DIR": str(folder / "search"),
        "MAIL_BACKEND": "file",
    }


def portal_env(settings: dict[str, str], **extra: str) -> dict[str, str]:
    """The environment gunicorn serves ``wsgi:app`` in: this process's without its ``PORTAL_*``
    variables, then ``settings`` and ``extra`` as ``PORTAL_*`` variables, a bench secret key, and
    no periodic jobs unless ``extra`` says ``RUN_SCHEDULER="true"``."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PORTAL_")}
    env.update({f"PORTAL_{name}": value for name, value in settings.items() if name != "ENV_NAME"})
    env.update({"PORTAL_ENV": settings["ENV_NAME"], "PORTAL_SECRET_KEY": "bench-secret-key"})
    env.update({f"PORTAL_{name}": value for name, value in {"RUN_SCHEDULER": "false", **extra}.items()})
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def process_cpu_seconds(pid: int) -> float:
    """User and system CPU of one process and of the children it has waited for (``/proc``, Linux);
    0 for a process that is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": fields 3.. of proc(5)
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return (utime + stime + cutime + cstime) / _TICKS


def machine_ticks() -> tuple[int, int]:
    """(ticks the host took from this machine's CPUs, all ticks) since boot (``/proc/stat``, Linux;
    (0, 0) elsewhere). On a shared virtual machine, stolen time makes the same code slower."""
    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return 0, 0
    ticks = [int(value) for value in first[1:9]]  # user nice system idle iowait irq softirq steal
    return ticks[7], sum(ticks)


def stolen_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    """The share of the machine's CPU time the host took between two :func:`machine_ticks`."""
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total > 0 else 0.0


def child_pids(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return children


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and its live children (gunicorn's master and workers)."""
    return process_cpu_seconds(pid) + sum(process_cpu_seconds(child) for child in child_pids(pid))


class Gunicorn:
    """gunicorn serving one WSGI app on 127.0.0.1 and a free port: ``-k gthread`` with ``threads``
    threads per worker, or sync workers (``worker_class="sync"``, one request at a time each)."""

    def __init__(
        self,
        app: str,
        env: dict[str, str],
        *,
        workers: int,
        threads: int = 1,
        log: Path,
        worker_class: str = "gthread",
        timeout: int = 30,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.workers = workers
        command = [
            sys.executable, "-m", "gunicorn", "-k", worker_class, "-w", str(workers),
            "-b", f"127.0.0.1:{self.port}", "--timeout", str(timeout), "--log-level", "warning", app,
        ]  # fmt: skip
        if worker_class == "gthread":
            command[5:5] = ["--threads", str(threads)]
        with log.open("wb") as out:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def wait_ready(self, path: str = "/", timeout: float = 60) -> None:
        """Waits for an answer on ``path`` and for every worker to have started."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited:\n{self.log_tail()}")
            try:
                with urlopen(self.url + path, timeout=2):
                    if len(child_pids(self.pid)) >= self.workers:
                        return
            except (URLError, ConnectionError, OSError):
                pass
            time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer within {timeout:.0f} s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
