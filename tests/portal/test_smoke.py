"""The app starts on a migrated database and serves the Persian home page."""

from tests.factories import MemberFactory


def test_home_page_is_persian_and_right_to_left(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="fa" dir="rtl">' in html
    assert "bootstrap.rtl.min.css" in html


def test_factories_write_into_the_test_transaction(db_session):
    member = MemberFactory()
    assert member.id is not None
