"""The review queue: oldest first, filters, actions through the adapters, conflicts, notifications, live count."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.events import emit
from portal.extensions import db, socketio
from portal.moderation.models import AuditEntry, Flag, QueueItem
from portal.moderation.services import flags, queue
from portal.notifications.models import Notification
from tests.factories import AdminFactory, MemberFactory, ModeratorFactory
from tests.helpers import count_queries
from tests.moderation.conftest import ItemAdapter
from tests.portal.web import csrf_token, flashes, fresh, make_client, recorded_events, sign_in, use_language

_batch_load = ItemAdapter.load_many


def _flagged(content, author=None, **kwargs):
    author = author or MemberFactory()
    post = content.create(author=author, **kwargs)
    flagger = MemberFactory()
    flag = flags.flag_content(actor=flagger, kind=kwargs.get("kind", "post"), object_id=post.id, reason="spam")
    return post, flagger, db.session.get(QueueItem, flag.queue_item_id)


def _act(client, item, action, **data):
    return client.post(f"/moderation/queue/{item.id}/{action}", data={"csrf_token": csrf_token(client, "/"), **data})


def _notes(member_id):
    return [
        (n.kind, n.params)
        for n in db.session.scalars(sa.select(Notification).where(Notification.member_id == member_id))
    ]


@pytest.fixture
def moderator_web(web):
    moderator = ModeratorFactory(display_name="Mona Moderator")
    sign_in(web, moderator)
    web.moderator = moderator
    return web


# --- the page ---------------------------------------------------------------------------------------------


def test_queue_lists_pending_items_oldest_first_with_content_flags_and_author_history(moderator_web, content):
    author = MemberFactory(display_name="Ali Author")
    _first, _, _ = _flagged(content, author=author, title="First post")
    _second, _, _ = _flagged(content, title="Second post", body="**bold** text")
    db.session.commit()
    html = moderator_web.get("/moderation/").get_data(as_text=True)
    assert html.index("First post") < html.index("Second post")
    assert "<strong>bold</strong>" in html
    assert "Ali Author" in html
    assert "Flags against: 1" in html
    assert ">1 flag<" in html
    assert 'data-shortcut="h"' in html
    assert "js/moderation.js" in html


def test_queue_shows_the_context_an_adapter_offers(moderator_web, content):
    _flagged(content, kind="topic", title="A topic")
    _flagged(content, title="A post")
    db.session.commit()
    html = moderator_web.get("/moderation/").get_data(as_text=True)
    assert html.count('class="small text-muted mb-1 queue-context"') == 1
    assert "in category <b>General</b>" in html


def test_queue_filters_by_type_and_reason(moderator_web, content):
    _flagged(content, title="A flagged post")
    held = content.create(author=MemberFactory(), title="A held topic", kind="topic")
    queue.open_item(kind="topic", object_id=held.id, reason="held_new")
    db.session.commit()
    by_kind = moderator_web.get("/moderation/?kind=topic").get_data(as_text=True)
    assert "A held topic" in by_kind
    assert "A flagged post" not in by_kind
    by_reason = moderator_web.get("/moderation/?reason=flagged").get_data(as_text=True)
    assert "A flagged post" in by_reason
    assert "A held topic" not in by_reason


def test_queue_page_runs_a_bounded_number_of_queries(moderator_web, content):
    def queries_for_page() -> int:
        db.session.commit()
        db.session.expire_all()
        with count_queries() as counter:
            assert moderator_web.get("/moderation/").status_code == 200
        return counter.count

    moderator_web.get("/moderation/")
    for _ in range(2):
        _flagged(content)
    few = queries_for_page()
    for _ in range(6):
        _flagged(content)
    many = queries_for_page()
    # Objects are loaded in one batch per kind (the adapters' load_many): the count does not grow with the page.
    assert many == few


def test_an_adapter_without_a_batch_load_is_loaded_item_by_item(moderator_web, content):
    del type(content.post).load_many  # restored below: the adapter class is shared by the module
    try:
        _flagged(content, title="Loaded one by one")
        gone, _, _ = _flagged(content, title="Deleted meanwhile")
        content.post.delete(gone, actor=None, reason="")
        db.session.commit()
        html = moderator_web.get("/moderation/").get_data(as_text=True)
    finally:
        type(content.post).load_many = _batch_load
    assert "Loaded one by one" in html
    assert "This content no longer exists." in html


# --- actions ----------------------------------------------------------------------------------------------------


def test_hide_hides_through_the_adapter_emits_the_removal_audits_and_notifies(moderator_web, content):
    author = MemberFactory()
    post, flagger, item = _flagged(content, author=author, title="Rude words")
    db.session.commit()
    with recorded_events("post.removed") as removed:
        response = _act(moderator_web, item, "hide", reason="Be kind")
    assert response.status_code == 303
    assert content.state(post) == "hidden"
    assert [(e.member_id, e.source) for e in removed] == [(author.id, ("post", post.id))]
    item = fresh(item)
    assert (item.state, item.resolved_by_id, item.open_key) == ("hidden", moderator_web.moderator.id, None)
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "moderation.hide"))
    assert (entry.actor_id, entry.object_kind, entry.object_id, entry.reason) == (
        moderator_web.moderator.id,
        "post",
        str(post.id),
        "Be kind",
    )
    assert entry.before == {"state": "pending", "visible": True}
    assert entry.after == {"state": "hidden", "visible": False}
    assert _notes(flagger.id) == [
        ("moderation.flag_resolved", {"title": "Rude words", "action": "hide", "agreed": True})
    ]
    assert _notes(author.id) == [
        ("moderation.content_actioned", {"action": "hide", "title": "Rude words", "reason": "Be kind"})
    ]
    assert db.session.scalar(sa.select(Flag.resolution)) == "agreed"


def test_approve_keeps_the_content_and_tells_the_flagger_it_stayed(moderator_web, content):
    post, flagger, item = _flagged(content, title="Fine post")
    db.session.commit()
    _act(moderator_web, item, "approve")
    assert content.state(post) == "visible"
    assert fresh(item).state == "approved"
    assert _notes(flagger.id) == [
        ("moderation.flag_resolved", {"title": "Fine post", "action": "approve", "agreed": False})
    ]
    assert _notes(post.author_id) == []


def test_approving_a_held_post_publishes_it_and_counts_it_as_approved(moderator_web, content):
    author = MemberFactory()
    post = content.create(author=author, state="held")
    item = queue.open_item(kind="post", object_id=post.id, reason="held_new", author_id=author.id)
    db.session.commit()
    with recorded_events("post.restored") as restored:
        _act(moderator_web, item, "approve")
    assert content.state(post) == "visible"
    assert [e.source for e in restored] == [("post", post.id)]
    from portal.moderation.models import TrustRecord

    assert db.session.get(TrustRecord, author.id).approved_posts == 1


def test_delete_and_restore_go_through_the_adapter(moderator_web, content):
    post, _, item = _flagged(content)
    db.session.commit()
    _act(moderator_web, item, "delete", reason="Spam")
    assert content.state(post) == "deleted"
    other, _, item2 = _flagged(content)
    content.post.hide(content.post.load(other.id), actor=None, reason="")
    db.session.commit()
    _act(moderator_web, item2, "restore")
    assert content.state(other) == "visible"


def test_edit_replaces_the_text_with_a_reason_for_the_author(moderator_web, content):
    post, _, item = _flagged(content, title="Typo post", body="old text")
    db.session.commit()
    _act(moderator_web, item, "edit", new_text="new *text*", reason="Removed a phone number")
    assert content.row(post).body == "new *text*"
    assert fresh(item).state == "edited"
    assert (
        "moderation.content_actioned",
        {"action": "edit", "title": "Typo post", "reason": "Removed a phone number"},
    ) in _notes(post.author_id)


@pytest.mark.parametrize(
    "text",
    ["<script>alert(1)</script>", '<img src=x onerror="alert(1)">', "[x](javascript:alert(1))", "<iframe src=//evil>"],
)
def test_an_edit_that_injects_script_is_refused_and_changes_nothing(moderator_web, content, text):
    post, _, item = _flagged(content, body="old text")
    db.session.commit()
    response = _act(moderator_web, item, "edit", new_text=text, reason="sneaky")
    assert response.status_code == 303
    assert any("not allowed" in message for _, message in flashes(moderator_web))
    assert content.row(post).body == "old text"
    assert fresh(item).state == "pending"
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.action == "moderation.edit")
        )
        == 0
    )


def test_an_edit_needs_a_reason(moderator_web, content):
    post, _, item = _flagged(content, body="old text")
    db.session.commit()
    _act(moderator_web, item, "edit", new_text="new text")
    assert ("danger", "Please give the author a reason for the edit.") in flashes(moderator_web)
    assert content.row(post).body == "old text"


def test_acting_on_an_item_already_resolved_says_what_happened_and_changes_nothing(app, moderator_web, content):
    post, _, item = _flagged(content)
    other = ModeratorFactory(display_name="Omid Other")
    db.session.commit()
    other_web = make_client(app)
    use_language(other_web, "en")
    sign_in(other_web, other)
    _act(other_web, item, "approve")
    audit_count = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    response = _act(moderator_web, item, "delete", reason="too late")
    assert response.status_code == 303
    [(category, message)] = flashes(moderator_web)
    assert category == "warning"
    assert "already resolved by Omid Other (approved" in message
    assert "Nothing was changed." in message
    assert content.state(post) == "visible"
    assert (fresh(item).state, fresh(item).resolved_by_id) == ("approved", other.id)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == audit_count


def test_topic_actions_need_an_adapter_that_offers_them(moderator_web, content):
    _post, _, item = _flagged(content)
    topic, _, topic_item = _flagged(content, kind="topic")
    db.session.commit()
    _act(moderator_web, item, "lock")
    assert ("danger", "This kind of content cannot be locked.") in flashes(moderator_web)
    assert fresh(item).state == "pending"
    _act(moderator_web, topic_item, "lock", reason="Heated")
    assert content.row(topic).locked is True or content.row(topic).locked == 1
    assert fresh(topic_item).state == "acted"


def test_move_needs_a_target(moderator_web, content):
    topic, _, item = _flagged(content, kind="topic")
    db.session.commit()
    _act(moderator_web, item, "move")
    assert ("danger", "Choose where to move or merge it.") in flashes(moderator_web)
    _act(moderator_web, item, "move", target_id="42")
    assert content.row(topic).parent_id == 42


def test_members_cannot_act_on_the_queue(web, content):
    post, _, item = _flagged(content)
    sign_in(web, MemberFactory())
    assert web.get("/moderation/").status_code == 403
    assert _act(web, item, "hide").status_code == 403
    assert content.state(post) == "visible"


def test_an_unknown_action_or_item(moderator_web, content):
    _, _, item = _flagged(content)
    db.session.commit()
    _act(moderator_web, item, "explode")
    assert ("danger", "Unknown action.") in flashes(moderator_web)
    assert _act(moderator_web, type("X", (), {"id": 987654})(), "hide").status_code == 404


# --- the queue's inbox and live count ---------------------------------------------------------------------


def test_any_package_can_put_an_item_in_the_queue_with_an_event(content):
    member = MemberFactory()
    emit(
        "moderation.hold_requested",
        member_id=member.id,
        source=("member", member.id),
        attributes={"reason": "signup", "note": "referral from a new account"},
    )
    item = db.session.scalar(sa.select(QueueItem))
    assert (item.kind, item.object_id, item.reason, item.author_id, item.note) == (
        "member",
        member.id,
        "signup",
        member.id,
        "referral from a new account",
    )
    emit("moderation.hold_requested", member_id=member.id, source=("member", member.id))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QueueItem)) == 1


def test_the_queue_count_reaches_every_moderator_live_after_commit(app, content):
    moderator, admin = ModeratorFactory(), AdminFactory()
    db.session.commit()

    def connect(person):
        client = make_client(app)
        sign_in(client, person)
        with app.app_context():  # its own g, as each real connection has
            return socketio.test_client(app, flask_test_client=client)

    sockets = [connect(moderator), connect(admin)]
    member_socket = connect(MemberFactory())
    for sock in [*sockets, member_socket]:
        sock.get_received()
    post = content.create(author=MemberFactory())
    flags.flag_content(actor=MemberFactory(), kind="post", object_id=post.id, reason="spam")
    assert all(not [m for m in sock.get_received() if m["name"] == "moderation.queue"] for sock in sockets)
    db.session.commit()
    for sock in sockets:
        counts = [m["args"][0]["count"] for m in sock.get_received() if m["name"] == "moderation.queue"]
        assert counts == [1]
    assert not [m for m in member_socket.get_received() if m["name"] == "moderation.queue"]
    for sock in [*sockets, member_socket]:
        sock.disconnect()


def test_the_navbar_badge_loads_the_count_for_staff_only(web, content):
    _flagged(content)
    _flagged(content)
    moderator = ModeratorFactory()
    sign_in(web, moderator)
    home = web.get("/").get_data(as_text=True)
    assert 'hx-get="/moderation/queue/count"' in home
    badge = web.get("/moderation/queue/count").get_data(as_text=True)
    assert re.search(r'id="mod-queue-count" data-count="2"', badge)
    member_web = make_client(web.application)
    sign_in(member_web, MemberFactory())
    assert "/moderation/queue/count" not in member_web.get("/").get_data(as_text=True)
    assert member_web.get("/moderation/queue/count").status_code == 403


def test_the_queue_speaks_persian(web, content):
    _flagged(content)
    moderator = ModeratorFactory(language="fa")
    sign_in(web, moderator)
    html = web.get("/moderation/").get_data(as_text=True)
    assert "صف بررسی" in html
    assert "گزارش‌شده توسط اعضا" in html
    assert 'dir="rtl"' in html
