"""The app starts on a migrated database and serves the Persian home page."""

from tests.factories import MemberFactory
from tests.portal.web import make_client, sign_in


def test_home_page_is_persian_and_right_to_left(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="fa" dir="rtl">' in html
    assert "bootstrap.rtl.min.css" in html


def test_factories_write_into_the_test_transaction(db_session):
    member = MemberFactory()
    assert member.id is not None


def test_the_member_count_on_the_home_page_agrees_with_its_number(app, client, db_session):
    MemberFactory()
    db_session.flush()
    english = client.get("/?lang=en").get_data(as_text=True)
    assert "1 member and counting." in english
    MemberFactory()
    db_session.flush()
    assert "2 members and counting." in client.get("/?lang=en").get_data(as_text=True)
    assert "۲ عضو و در حال افزایش." in make_client(app).get("/").get_data(as_text=True)


def test_the_notification_bell_is_an_icon_not_an_emoji(client, db_session):
    sign_in(client, MemberFactory())
    html = client.get("/").get_data(as_text=True)
    assert 'class="bell-icon"' in html
    assert "🔔" not in html
