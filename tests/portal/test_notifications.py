"""In-app notifications: storing, the bell, the list, marking as read, live pushes and the reader's language."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, get_locale

from portal.extensions import db, socketio
from portal.notifications import kinds, services
from portal.notifications.kinds import render_text
from portal.notifications.models import Notification
from tests.factories import MemberFactory, NotificationFactory
from tests.helpers import count_queries
from tests.portal.web import csrf_token, fresh, make_client, sign_in, use_language


@pytest.fixture
def web(app):
    client = make_client(app)
    use_language(client, "en")
    return client


@pytest.fixture
def member(web):
    member = MemberFactory(display_name="Reader", language="en")
    sign_in(web, member)
    return member


def _post(client, path):
    return client.post(path, data={"csrf_token": csrf_token(client)})


def _bell_count(html: str) -> int:
    match = re.search(r'id="bell-count"[^>]*data-count="(\d+)"', html)
    assert match, "no bell in the navbar"
    return int(match.group(1))


def _unread(member_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.member_id == member_id, Notification.read_at.is_(None))
    )


# --- the service -------------------------------------------------------------------------------


def test_notify_stores_an_unread_row_with_kind_params_and_url():
    member = MemberFactory()
    notification = services.notify(member.id, "account.role_changed", {"role": "agent"}, url="/admin/")
    stored = db.session.get(Notification, notification.id)
    assert (stored.member_id, stored.kind, stored.params, stored.url) == (
        member.id,
        "account.role_changed",
        {"role": "agent"},
        "/admin/",
    )
    assert stored.is_read is False
    assert stored.created_at is not None
    assert services.unread_count(member.id) == 1


def test_unread_count_counts_only_the_members_unread_notifications():
    member, other = MemberFactory(), MemberFactory()
    NotificationFactory.create_batch(3, member_id=member.id)
    NotificationFactory(member_id=member.id, read_at=db.func.now())
    NotificationFactory(member_id=other.id)
    assert services.unread_count(member.id) == 3


def test_mark_read_ignores_another_members_notification():
    owner, intruder = MemberFactory(), MemberFactory()
    notification = NotificationFactory(member_id=owner.id)
    assert services.mark_read(intruder, notification.id) is None
    assert notification.read_at is None
    assert services.mark_read(owner, notification.id) is notification
    assert notification.read_at is not None


def test_mark_all_read_touches_only_the_members_unread_rows():
    member, other = MemberFactory(), MemberFactory()
    NotificationFactory.create_batch(4, member_id=member.id)
    NotificationFactory(member_id=other.id)
    assert services.mark_all_read(member) == 4
    assert _unread(member.id) == 0
    assert _unread(other.id) == 1


def test_a_notification_is_pushed_live_to_the_members_socket_after_commit(app, web, member):
    socket = socketio.test_client(app, flask_test_client=web)
    assert socket.is_connected()
    connect_events = socket.get_received()
    assert {"name": "unread", "args": [{"unread": 0}], "namespace": "/"} in connect_events
    services.notify(member.id, "account.role_changed", {"role": "moderator"}, url="/members/1")
    assert socket.get_received() == []  # nothing leaves before the commit
    db.session.commit()
    received = socket.get_received()
    socket.disconnect()
    assert [event["name"] for event in received] == ["notification"]
    payload = received[0]["args"][0]
    assert payload["text"] == "Your role in the club is now: moderator."
    assert payload["url"] == "/members/1"
    assert payload["unread"] == 1


def test_many_notifications_are_pushed_once_each_in_each_members_language(app, member, monkeypatch):
    """notify_many's pushes: one job, each text in its reader's language (rendered once per
    language and text), each with the reader's unread count."""
    reader = MemberFactory(language="fa")
    pushed = []
    monkeypatch.setattr(
        services.realtime, "emit_to_member", lambda member_id, name, data: pushed.append((member_id, name, data))
    )
    services.notify_many(
        [
            (member.id, "account.role_changed", {"role": "moderator"}, "/a"),
            (reader.id, "account.role_changed", {"role": "moderator"}, "/b"),
            (member.id, "account.role_changed", {"role": "agent"}, None),
            (member.id, "account.role_changed", {"role": "moderator"}, "/c"),
        ]
    )
    assert pushed == []  # nothing leaves before the commit
    db.session.commit()
    assert [name for _, name, _ in pushed] == ["notification"] * 4
    english = [data for who, _, data in pushed if who == member.id]
    persian = [data for who, _, data in pushed if who == reader.id]
    assert [(p["text"], p["url"], p["unread"]) for p in english] == [
        ("Your role in the club is now: moderator.", "/a", 3),
        ("Your role in the club is now: support agent.", None, 3),
        ("Your role in the club is now: moderator.", "/c", 3),
    ]
    with force_locale("fa"):
        in_persian = render_text("account.role_changed", {"role": "moderator"})
    assert [(p["text"], p["url"], p["unread"]) for p in persian] == [(in_persian, "/b", 1)]
    assert in_persian != english[0]["text"]
    assert len({p["id"] for p in english + persian}) == 4


def test_a_rolled_back_notification_is_never_pushed(app, web, member):
    socket = socketio.test_client(app, flask_test_client=web)
    socket.get_received()
    services.notify(member.id, "account.welcome", {"name": "x"})
    db.session.rollback()
    db.session.commit()
    assert socket.get_received() == []
    socket.disconnect()


def test_another_members_socket_does_not_get_the_push(app, member):
    other_web = make_client(app)
    sign_in(other_web, MemberFactory())
    socket = socketio.test_client(app, flask_test_client=other_web)
    socket.get_received()
    services.notify(member.id, "account.welcome", {"name": "x"})
    db.session.commit()
    assert socket.get_received() == []
    socket.disconnect()


# --- texts in the reader's language -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "params", "english"),
    [
        ("account.role_changed", {"role": "agent"}, "Your role in the club is now: support agent."),
        ("account.welcome", {"name": "Sara"}, "Welcome to the club, Sara! Complete your profile to get started."),
        ("account.email_changed", {}, "Your account's email address was changed."),
        ("account.password_changed", {}, "Your password was changed. If this was not you, reset it now."),
        ("no.such.kind", {}, "You have a new notification."),
        ("account.welcome", {}, "You have a new notification."),  # a missing parameter never breaks a page
    ],
)
def test_registered_kinds_render_their_english_text(app, kind, params, english):
    with app.test_request_context(), force_locale("en"):
        assert render_text(kind, params) == english


@pytest.mark.parametrize("language", ["fa", "en"])
def test_notifications_page_renders_registered_kinds_in_the_readers_language(app, language):
    reader = MemberFactory(language=language)
    NotificationFactory(member_id=reader.id, kind="account.role_changed", params={"role": "moderator"})
    client = make_client(app)
    sign_in(client, reader)
    html = client.get("/notifications/").get_data(as_text=True)
    with app.test_request_context(), force_locale(language):
        expected = render_text("account.role_changed", {"role": "moderator"})
    assert expected in html
    assert f'<html lang="{language}"' in html


@pytest.fixture
def locale_probe_kind():
    """A kind whose text names the locale it was rendered in."""
    kinds.register_kind("test.locale_probe", lambda params: f"rendered-in-{get_locale()}")
    yield "test.locale_probe"
    kinds._kinds.pop("test.locale_probe", None)


def test_texts_are_rendered_when_read_so_a_language_switch_applies_to_old_notifications(app, locale_probe_kind):
    reader = MemberFactory(language="fa")
    NotificationFactory(member_id=reader.id, kind=locale_probe_kind, params={})
    client = make_client(app)
    sign_in(client, reader)
    assert "rendered-in-fa" in client.get("/notifications/").get_data(as_text=True)
    assert "rendered-in-fa" in client.get("/notifications/bell").get_data(as_text=True)
    token = csrf_token(client)
    client.post("/lang", data={"csrf_token": token, "lang": "en", "next": "/notifications/"})
    assert fresh(reader).language == "en"
    assert "rendered-in-en" in client.get("/notifications/").get_data(as_text=True)
    assert "rendered-in-en" in client.get("/notifications/bell").get_data(as_text=True)


def test_live_push_is_rendered_in_the_members_language(app, locale_probe_kind):
    reader = MemberFactory(language="fa")
    client = make_client(app)
    sign_in(client, reader)
    use_language(client, "en")  # the browser's session language does not matter to a push
    socket = socketio.test_client(app, flask_test_client=client)
    socket.get_received()
    services.notify(reader.id, locale_probe_kind)
    db.session.commit()
    received = socket.get_received()
    socket.disconnect()
    assert received[0]["args"][0]["text"] == "rendered-in-fa"


# --- pages ---------------------------------------------------------------------------------------------


def test_the_bell_in_the_navbar_shows_the_unread_count(web, member):
    assert _bell_count(web.get("/").get_data(as_text=True)) == 0
    NotificationFactory.create_batch(3, member_id=member.id)
    NotificationFactory(member_id=member.id, read_at=db.func.now())
    NotificationFactory(member_id=MemberFactory().id)
    db.session.commit()
    html = web.get("/").get_data(as_text=True)
    assert _bell_count(html) == 3
    assert re.search(r'id="bell-count"[^>]*>3</span>', html)


def test_the_bell_count_uses_persian_digits_in_persian(app):
    reader = MemberFactory(language="fa")
    NotificationFactory.create_batch(3, member_id=reader.id)
    client = make_client(app)
    sign_in(client, reader)
    assert re.search(r'id="bell-count"[^>]*>۳</span>', client.get("/").get_data(as_text=True))


def test_visitors_have_no_bell(web):
    assert 'id="bell-count"' not in web.get("/").get_data(as_text=True)


def test_the_bell_fragment_lists_the_latest_notifications_without_the_page_around_them(web, member):
    for role in ["member", "moderator", "agent"]:
        NotificationFactory(member_id=member.id, kind="account.role_changed", params={"role": role})
    NotificationFactory(member_id=MemberFactory().id, kind="account.welcome", params={"name": "Someone Else"})
    db.session.commit()
    response = web.get("/notifications/bell")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html
    texts = re.findall(r'<span class="d-block" dir="auto">([^<]+)</span>', html)
    assert texts == [
        "Your role in the club is now: support agent.",
        "Your role in the club is now: moderator.",
        "Your role in the club is now: member.",
    ]
    assert "Someone Else" not in html


def test_the_bell_fragment_shows_at_most_eight(web, member):
    NotificationFactory.create_batch(12, member_id=member.id)
    db.session.commit()
    html = web.get("/notifications/bell").get_data(as_text=True)
    assert html.count('<form method="post" action="/notifications/') == 8


def test_the_bell_fragment_says_when_there_is_nothing(web, member):
    assert "No notifications yet." in web.get("/notifications/bell").get_data(as_text=True)


def test_notification_pages_need_a_login(web):
    assert web.get("/notifications/").status_code == 302
    assert web.get("/notifications/bell").status_code == 302


def test_opening_a_notification_marks_it_read_and_follows_its_link(web, member):
    notification = NotificationFactory(member_id=member.id, url="/account/profile")
    db.session.commit()
    response = _post(web, f"/notifications/{notification.id}/read")
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/profile"
    assert fresh(notification).read_at is not None


def test_marking_read_without_a_link_returns_to_the_list(web, member):
    notification = NotificationFactory(member_id=member.id, url=None)
    db.session.commit()
    response = _post(web, f"/notifications/{notification.id}/read")
    assert response.headers["Location"] == "/notifications/"
    assert fresh(notification).is_read


def test_marking_another_members_notification_changes_nothing(web, member):
    theirs = NotificationFactory(member_id=MemberFactory().id, url="/secret")
    db.session.commit()
    response = _post(web, f"/notifications/{theirs.id}/read")
    assert response.status_code == 303
    assert response.headers["Location"] == "/notifications/"  # their link is not revealed
    assert fresh(theirs).read_at is None


def test_mark_all_read_clears_the_bell(web, member):
    NotificationFactory.create_batch(5, member_id=member.id)
    other = NotificationFactory(member_id=MemberFactory().id)
    db.session.commit()
    response = _post(web, "/notifications/read-all")
    assert response.status_code == 303
    assert _unread(member.id) == 0
    assert fresh(other).read_at is None
    assert _bell_count(web.get("/").get_data(as_text=True)) == 0


def test_the_list_shows_newest_first_and_paginates(web, member):
    created = [
        NotificationFactory(member_id=member.id, kind="account.welcome", params={"name": f"N{i:02d}"})
        for i in range(35)
    ]
    db.session.commit()
    first = web.get("/notifications/").get_data(as_text=True)
    names = re.findall(r"Welcome to the club, (N\d\d)!", first)
    assert names == [f"N{i:02d}" for i in range(34, 4, -1)]
    link = re.search(r'href="(/notifications/\?cursor=[^"]+)"', first)
    assert link
    assert "Older notifications" in first
    second = web.get(link.group(1)).get_data(as_text=True)
    assert re.findall(r"Welcome to the club, (N\d\d)!", second) == ["N04", "N03", "N02", "N01", "N00"]
    assert "Older notifications" not in second
    assert len(created) == 35


def test_a_broken_cursor_goes_back_to_the_first_page(web, member):
    response = web.get("/notifications/?cursor=@@@")
    assert response.status_code == 302
    assert response.headers["Location"] == "/notifications/"


def test_the_list_says_when_there_is_nothing(web, member):
    assert "No notifications yet." in web.get("/notifications/").get_data(as_text=True)


def test_notifications_page_runs_a_constant_number_of_queries(web, member):
    def queries_for_page() -> int:
        db.session.commit()
        db.session.expire_all()
        with count_queries() as counter:
            assert web.get("/notifications/").status_code == 200
        return counter.count

    web.get("/notifications/")  # warm up
    NotificationFactory.create_batch(5, member_id=member.id)
    few = queries_for_page()
    NotificationFactory.create_batch(35, member_id=member.id)
    many = queries_for_page()
    assert few == many, f"5 notifications: {few} queries, 40 notifications: {many} queries"
    assert few <= 3
