"""portal.bulk on the suite's database (SQLite, or PostgreSQL with PORTAL_TEST_DATABASE_URL)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal import bulk
from portal.accounts.models import Member
from portal.db import db
from tests.factories import MemberFactory


def test_tuples_are_the_drivers_own_and_hold_what_the_orm_reads():
    members = [MemberFactory(city=city) for city in ("Shiraz", None, 'Qom "old"')]
    ids = [m.id for m in members]
    stmt = sa.select(Member.id, Member.city, Member.display_name).where(bulk.one_of(Member.id, ids)).order_by(Member.id)
    plain = bulk.tuples(stmt)
    assert all(type(row) is tuple for row in plain)
    assert plain == [tuple(row) for row in db.session.execute(stmt)]
    assert [city for _, city, _ in plain] == ["Shiraz", None, 'Qom "old"']


def test_tuples_flushes_pending_changes_first():
    member = MemberFactory()
    member.city = "Tabriz"  # not flushed yet
    assert bulk.tuples(sa.select(Member.city).where(Member.id == member.id)) == [("Tabriz",)]


@pytest.mark.parametrize("column", [Member.created_at, Member.is_disabled])
def test_tuples_refuses_columns_whose_values_need_converting(column):
    with pytest.raises(TypeError, match="integer and text columns only"):
        bulk.tuples(sa.select(Member.id, column))


def test_rows_at_answers_plain_tuples_for_the_wanted_keys_only():
    first, second, _ = (MemberFactory(city=f"City {n}") for n in range(3))
    db.session.flush()
    found = bulk.rows_at("members", ["id"], [(first.id,), (second.id,), (10**9,)], ["id", "city"])
    assert all(type(row) is tuple for row in found)
    assert sorted(found) == [(first.id, "City 0"), (second.id, "City 1")]


def test_text_with_quotes_backslashes_and_commas_round_trips_through_a_bulk_insert():
    # On PostgreSQL the rows travel as array literals, escaped in one pass.
    names = ["plain", 'with "quotes"', "back\\slash", "comma, and {braces}", "NULL", ""]
    when = bulk.time_writer()(MemberFactory().created_at)
    rows = [(f"bulk{n}@example.com", "x", name, f"BULK{n}", when, when) for n, name in enumerate(names)]
    bulk.insert_rows(
        "members", ["email", "password_hash", "display_name", "referral_code", "created_at", "updated_at"], rows
    )
    stmt = sa.select(Member.referral_code, Member.display_name).where(Member.email.like("bulk%"))
    stored = dict(db.session.execute(stmt).all())
    assert stored == {f"BULK{n}": name for n, name in enumerate(names)}


def test_counts_at_counts_the_rows_of_each_wanted_pair_and_leaves_out_those_without():
    first, second = MemberFactory(city="Tabriz"), MemberFactory(city="Tabriz")
    third = MemberFactory(city="Yazd")
    db.session.flush()
    wanted = [(first.id, "Tabriz"), (second.id, "Yazd"), (third.id, "Yazd"), (10**9, "Tabriz")]
    assert bulk.counts_at("members", ["id", "city"], wanted) == {(first.id, "Tabriz"): 1, (third.id, "Yazd"): 1}
    # A counted expression over the table's rows: the distinct cities of the wanted ids.
    by_id = bulk.counts_at("members", ["id"], [(first.id,), (third.id,)], counted="DISTINCT t.city")
    assert by_id == {(first.id,): 1, (third.id,): 1}
    assert bulk.counts_at("members", ["id"], []) == {}
