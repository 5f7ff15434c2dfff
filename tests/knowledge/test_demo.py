"""The demo seeder: bilingual linked articles, two agents, teams, tickets in every state; idempotent."""

from __future__ import annotations

import sqlalchemy as sa

from knowledge import demo
from knowledge.kb.models import KbArticle
from knowledge.tickets.models import STATUSES, SupportTeam, Ticket
from portal import search
from portal.accounts import demo as accounts_demo
from portal.accounts.models import Member
from portal.extensions import db


def test_the_demo_fills_the_knowledge_base_and_the_desk_once():
    accounts_demo.seed_accounts()
    demo.seed_knowledge()
    agents = db.session.scalars(sa.select(Member.email).where(Member.role == "agent")).all()
    assert {"agent@bashgah.example", "agent2@bashgah.example"} <= set(agents)
    articles = db.session.scalars(sa.select(KbArticle)).all()
    languages = {a.language for a in articles if a.is_published}
    assert languages == {"fa", "en"}
    assert sum(1 for a in articles if a.translation_of_id) == len(demo.ARTICLES)
    statuses = set(db.session.scalars(sa.select(Ticket.status)))
    assert statuses == set(STATUSES)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket).where(Ticket.guest_email.is_not(None)))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket).where(Ticket.rating.is_not(None)))
    assert db.session.scalar(
        sa.select(sa.func.count()).select_from(Ticket).where(Ticket.first_response_breached.is_(True))
    )
    assert db.session.scalar(sa.select(SupportTeam.id).where(SupportTeam.is_private.is_(True)))
    published = {str(a.id) for a in articles if a.is_published}
    found = {hit.id for hit in search.search(articles[0].title.split()[0], kinds=["kb"], per_page=100).hits}
    assert found  # the demo's articles are searchable right after seeding
    assert found <= published
    assert search.sources()["kb"].count() == len(published)
    tickets = db.session.scalar(sa.select(sa.func.count()).select_from(Ticket))
    demo.seed_knowledge()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == tickets
