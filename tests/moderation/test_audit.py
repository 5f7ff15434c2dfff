"""The audit log: filled from audit.logged in the same transaction, append-only, searchable, paginated, CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.accounts import services as account_services
from portal.db import utcnow
from portal.events import emit
from portal.extensions import db
from portal.moderation.models import AuditEntry, AuditLogIsAppendOnly
from portal.moderation.services import audit
from tests.factories import AdminFactory, AgentFactory, MemberFactory, ModeratorFactory
from tests.helpers import count_queries
from tests.portal.web import csrf_token, post_form, sign_in


def _entries():
    return list(db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)))


def test_an_audit_logged_event_becomes_an_entry_in_the_same_transaction():
    actor = ModeratorFactory()
    emit(
        "audit.logged",
        member_id=actor.id,
        source=("post", 12),
        attributes={
            "action": "forums.lock_topic",
            "before": {"locked": False},
            "after": {"locked": True},
            "reason": "heated",
        },
    )
    [entry] = _entries()
    assert (entry.actor_id, entry.action, entry.object_kind, entry.object_id, entry.reason) == (
        actor.id,
        "forums.lock_topic",
        "post",
        "12",
        "heated",
    )
    assert (entry.before, entry.after) == ({"locked": False}, {"locked": True})
    db.session.rollback()
    assert _entries() == []


def test_role_changes_and_new_organisations_are_audited_with_the_ip(web):
    admin = AdminFactory()
    member = MemberFactory()
    sign_in(web, admin)
    web.post(
        f"/admin/members/{member.id}/role",
        data={"csrf_token": csrf_token(web), "role": "moderator"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    post_form(web, "/admin/organisations", {"name": "Pars Co", "city": "Tehran"})
    role_entry, org_entry = _entries()
    assert (role_entry.actor_id, role_entry.action, role_entry.object_kind, role_entry.object_id) == (
        admin.id,
        "accounts.set_role",
        "member",
        str(member.id),
    )
    assert (role_entry.before, role_entry.after, role_entry.ip) == (
        {"role": "member"},
        {"role": "moderator"},
        "203.0.113.9",
    )
    assert org_entry.action == "accounts.create_organisation"
    assert org_entry.after == {"name": "Pars Co", "national_id": None, "city": "Tehran"}


def test_a_refused_role_change_leaves_no_entry():
    admin = AdminFactory()
    with pytest.raises(Exception, match="at least one admin"):
        account_services.set_role(actor=admin, member=admin, role="member")
    assert _entries() == []


def test_entries_cannot_be_changed_or_deleted():
    entry = audit.record(actor_id=None, action="test.something", before={"when": utcnow()})
    assert isinstance(entry.before["when"], str)
    entry.reason = "rewritten"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    entry = audit.record(actor_id=None, action="test.other")
    db.session.delete(entry)
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()


# --- the page and the export ----------------------------------------------------------------------------------


@pytest.fixture
def seeded():
    alice = ModeratorFactory(display_name="Alice Mod", email="alice@example.com")
    bob = AdminFactory(display_name="Bob Admin")
    audit.record(actor_id=alice.id, action="moderation.hide", object_kind="post", object_id=1, reason="spam")
    audit.record(actor_id=bob.id, action="accounts.set_role", object_kind="member", object_id=7)
    audit.record(actor_id=alice.id, action="moderation.delete", object_kind="post", object_id=2)
    return alice, bob


def _rows(html):
    return re.findall(r'<tr class="audit-row">.*?<code>([^<]+)</code>', html, re.S)


def test_the_audit_page_searches_by_actor_action_object_and_date(web, seeded):
    _alice, bob = seeded
    sign_in(web, ModeratorFactory())
    assert _rows(web.get("/moderation/audit").get_data(as_text=True)) == [
        "moderation.delete",
        "accounts.set_role",
        "moderation.hide",
    ]
    assert _rows(web.get("/moderation/audit?actor=alice").get_data(as_text=True)) == [
        "moderation.delete",
        "moderation.hide",
    ]
    assert _rows(web.get(f"/moderation/audit?actor={bob.id}").get_data(as_text=True)) == ["accounts.set_role"]
    assert _rows(web.get("/moderation/audit?action=moderation.").get_data(as_text=True)) == [
        "moderation.delete",
        "moderation.hide",
    ]
    assert _rows(web.get("/moderation/audit?object_kind=post&object_id=1").get_data(as_text=True)) == [
        "moderation.hide"
    ]
    today = utcnow().date()
    assert len(_rows(web.get(f"/moderation/audit?from={today - timedelta(days=1)}").get_data(as_text=True))) == 3
    assert _rows(web.get(f"/moderation/audit?to={today - timedelta(days=2)}").get_data(as_text=True)) == []
    assert web.get("/moderation/audit?from=not-a-date").status_code == 200


def test_the_audit_page_paginates_with_a_cursor_in_constant_queries(web):
    for n in range(55):
        audit.record(actor_id=None, action=f"test.a{n:02d}")
    sign_in(web, AdminFactory())
    web.get("/moderation/audit")
    db.session.expire_all()
    with count_queries() as counter:
        first = web.get("/moderation/audit").get_data(as_text=True)
    assert counter.count <= 4
    assert len(_rows(first)) == 50
    link = re.search(r'href="(/moderation/audit\?cursor=[^"]+)"', first).group(1)
    second = web.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert len(_rows(second)) == 5
    assert web.get("/moderation/audit?cursor=%%%broken").status_code == 400


def test_the_csv_export_streams_every_matching_entry(web, seeded):
    sign_in(web, ModeratorFactory())
    response = web.get("/moderation/audit.csv?actor=alice")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["action"], r["actor"], r["object_id"], r["reason"]) for r in rows] == [
        ("moderation.delete", "Alice Mod", "2", ""),
        ("moderation.hide", "Alice Mod", "1", "spam"),
    ]


@pytest.mark.parametrize("factory", [MemberFactory, AgentFactory])
def test_members_and_agents_cannot_read_the_audit_log(web, factory):
    sign_in(web, factory())
    assert web.get("/moderation/audit").status_code == 403
    assert web.get("/moderation/audit.csv").status_code == 403
