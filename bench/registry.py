"""What the benchmark knows how to generate and measure; every package adds its own in ``bench/sources/``.

A module in ``bench/sources/`` registers, at import time::

    @generator("forums", order=20)
    def topics_and_posts(ctx: Context) -> None:
        ...  # insert ctx.sizes.topics topics and ctx.sizes.posts posts, record their ids in ctx.ids

    @targets
    def forum_pages(ctx: Context) -> list[Target]:
        return [Target("/forums/"), Target(f"/topics/{ctx.ids['topics'][0]}", login=True)]

The core (``generate.py``, ``run.py``) imports every module of ``bench/sources/`` by itself,
so adding a package's benchmark never means editing the core.
"""

from __future__ import annotations

import importlib
import pkgutil
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

BENCH_PASSWORD = "bench-password"  # noqa: S105 - the generated members' password, for benchmark data only


@dataclass(frozen=True)
class Sizes:
    """How much data to generate; each generator reads the sizes it cares about."""

    members: int = 200
    topics: int = 0
    posts: int = 0


@dataclass
class Context:
    """Shared by the generators of one run: sizes, a seeded random source, and the ids created so far."""

    sizes: Sizes
    rng: random.Random = field(default_factory=lambda: random.Random(2026))
    ids: dict[str, list[int]] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """One URL to measure. ``login=True`` measures it as a signed-in generated member."""

    path: str
    login: bool = False
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or (f"{self.path} (member)" if self.login else self.path)


Generator = Callable[[Context], None]
TargetSource = Callable[[Context], list[Target]]

_generators: list[tuple[int, str, Generator]] = []
_targets: list[TargetSource] = []


def generator(name: str, *, order: int = 50) -> Callable[[Generator], Generator]:
    """Registers a data generator; lower ``order`` runs first (accounts are 10, so others can use members)."""

    def register(fn: Generator) -> Generator:
        if all(existing != name for _, existing, _ in _generators):
            _generators.append((order, name, fn))
        return fn

    return register


def targets(fn: TargetSource) -> TargetSource:
    """Registers a function that names the URLs to measure, given the generated data."""
    if fn not in _targets:
        _targets.append(fn)
    return fn


def load_sources() -> None:
    """Imports every module in ``bench/sources/`` so that their registrations run."""
    from bench import sources

    for module in pkgutil.iter_modules(sources.__path__):
        importlib.import_module(f"bench.sources.{module.name}")


def generators() -> list[tuple[str, Generator]]:
    load_sources()
    return [(name, fn) for _, name, fn in sorted(_generators, key=lambda item: (item[0], item[1]))]


def all_targets(ctx: Context) -> list[Target]:
    load_sources()
    found: list[Target] = []
    for source in _targets:
        found.extend(source(ctx))
    return found
