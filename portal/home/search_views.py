"""The search page: every registered source, filters (kind, category, author, dates), highlighted snippets."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, render_template, request

from portal import search
from portal.accounts.models import Member
from portal.db import db
from portal.i18n import to_ascii_digits

bp = Blueprint("search", __name__, url_prefix="/search")
PER_PAGE = 20


def _date(value: str | None, end: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.strptime(to_ascii_digits(value.strip()), "%Y-%m-%d").date()
    except ValueError:
        return None
    return datetime.combine(day, time.max if end else time.min, tzinfo=UTC)


def _author_id(name: str) -> str | None:
    name = " ".join(name.split())
    if not name:
        return None
    found = db.session.scalar(
        sa.select(Member.id)
        .where(sa.func.lower(Member.display_name).like(f"%{name.lower()}%"))
        .order_by(sa.func.length(Member.display_name), Member.id)
        .limit(1)
    )
    return str(found) if found is not None else "0"


@bp.get("/")
def index() -> Any:
    query = (request.args.get("q") or "").strip()[:200]
    kind = request.args.get("kind") or None
    sources = search.sources()
    if kind not in sources:
        kind = None
    categories: list[tuple[str, str]] = []
    for source in sources.values():
        choices = getattr(source, "category_choices", None)
        if choices:
            categories.extend(choices())
    filters = search.Filters(
        category=request.args.get("category") or None,
        author=_author_id(request.args.get("author", "")),
        since=_date(request.args.get("from")),
        until=_date(request.args.get("to"), end=True),
    )
    page = request.args.get("page", 1, type=int) or 1
    results = search.search(
        query, kinds=[kind] if kind else None, filters=filters, page=max(1, page), per_page=PER_PAGE
    )
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "search/index.html", results=results, query=query, sources=sources, categories=categories, args=args
    )
