"""Contests open to a member segment only: the audience registry, the policy checks, the admin form."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from gamification.contests import policies, services
from gamification.contests.models import Contest, Entry, Vote
from portal.errors import NotAllowed, ValidationFailed
from portal.extensions import db
from tests.factories import AdminFactory, MemberFactory
from tests.gamification.contests.factories import ContestFactory, EntryFactory, jpeg, windows
from tests.gamification.contests.test_views import _form
from tests.portal.web import flashes, make_client, post_form, sign_in, use_language

BUYERS, STAFF = 7, 9


@pytest.fixture
def groups():
    """A plain predicate standing in for the portal's segments: segment id -> member ids."""
    members: dict[int, set[int]] = {BUYERS: set(), STAFF: set()}
    wired = dict(policies._audience)  # the composition root's provider, put back afterwards
    policies.register_audience(
        lambda segment_id, member_id: member_id in members.get(segment_id, set()),
        lambda: [(BUYERS, "Tehran buyers"), (STAFF, "Staff")],
    )
    yield members
    policies.unregister_audience()
    if wired:
        policies.register_audience(wired["contains"], wired["choices"])


@pytest.fixture
def web(app):
    client = make_client(app)
    use_language(client, "en")
    return client


def _data(**overrides) -> services.ContestData:
    values = {"title_fa": "شهر", "title_en": "City", "theme_fa": "شب", "theme_en": "Night", **windows("submissions")}
    values.update(overrides)
    return services.ContestData(**values)


def test_only_members_of_the_entering_segment_may_enter(groups):
    contest = ContestFactory(enter_segment_id=BUYERS)
    inside, outside = MemberFactory(), MemberFactory()
    groups[BUYERS].add(inside.id)
    assert services.enter_contest(actor=inside, contest=contest, stream=jpeg()).member_id == inside.id
    with pytest.raises(NotAllowed, match="open to a chosen group of members only"):
        services.enter_contest(actor=outside, contest=contest, stream=jpeg())
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Entry)) == 1


def test_only_members_of_the_voting_segment_may_vote(groups):
    contest = ContestFactory(phase="voting", vote_segment_id=STAFF)
    entry = EntryFactory(contest_id=contest.id, member_id=MemberFactory().id)
    inside, outside = MemberFactory(), MemberFactory()
    groups[STAFF].add(inside.id)
    services.cast_vote(actor=inside, entry=entry)
    with pytest.raises(NotAllowed, match="Voting in this contest is open to a chosen group of members only"):
        services.cast_vote(actor=outside, entry=entry)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 1


def test_the_tier_message_comes_first_when_both_restrictions_fail(groups, app):
    from gamification.engine.models import Tier

    db.session.add(Tier(code="gold", name_fa="طلایی", name_en="Gold", threshold=100, multiplier_percent=100))
    db.session.flush()
    contest = ContestFactory(enter_segment_id=BUYERS, min_tier_to_enter="gold")
    with pytest.raises(NotAllowed, match="higher tier"):
        services.enter_contest(actor=MemberFactory(), contest=contest, stream=jpeg())


def test_a_segment_restriction_without_a_registered_provider_lets_nobody_in():
    contest = ContestFactory(enter_segment_id=BUYERS)
    assert policies.audience_choices() == []
    with pytest.raises(NotAllowed, match="chosen group"):
        services.enter_contest(actor=MemberFactory(), contest=contest, stream=jpeg())


def test_an_unknown_segment_is_refused_when_setting_up(groups):
    with pytest.raises(ValidationFailed) as refused:
        services.create_contest(actor=None, data=_data(vote_segment_id=12345))
    assert refused.value.fields == {"vote_segment_id": "unknown"}
    contest = services.create_contest(actor=None, data=_data(enter_segment_id=BUYERS, vote_segment_id=STAFF))
    assert (contest.enter_segment_id, contest.vote_segment_id) == (BUYERS, STAFF)


def test_no_segment_can_be_chosen_when_none_are_registered():
    with pytest.raises(ValidationFailed, match="member group"):
        services.create_contest(actor=None, data=_data(enter_segment_id=BUYERS))


def test_the_admin_form_offers_the_segments_and_saves_the_choice(groups, web):
    sign_in(web, AdminFactory())
    page = web.get("/admin/contests/new").get_data(as_text=True)
    assert 'name="enter_segment_id"' in page
    assert "Tehran buyers" in page
    response = post_form(web, "/admin/contests/new", _form(enter_segment_id=str(BUYERS), vote_segment_id=""))
    assert response.status_code == 303
    contest = db.session.scalar(sa.select(Contest))
    assert (contest.enter_segment_id, contest.vote_segment_id) == (BUYERS, None)
    edit = web.get(f"/admin/contests/{contest.id}/edit").get_data(as_text=True)
    assert f'<option selected value="{BUYERS}">' in edit or f'value="{BUYERS}" selected' in edit


def test_the_admin_form_has_no_segment_fields_when_none_are_registered(web):
    sign_in(web, AdminFactory())
    page = web.get("/admin/contests/new").get_data(as_text=True)
    assert "segment" not in page
    assert post_form(web, "/admin/contests/new", _form()).status_code == 303


def test_the_contest_page_tells_an_outsider_why_they_cannot_enter(groups, web):
    contest = ContestFactory(enter_segment_id=BUYERS)
    sign_in(web, MemberFactory())
    page = web.get(f"/contests/{contest.id}").get_data(as_text=True)
    assert "This contest is open to a chosen group of members only." in page
    assert f'action="/contests/{contest.id}/enter"' not in page


def test_an_outsider_posting_an_entry_reads_the_refusal(groups, web):
    contest = ContestFactory(enter_segment_id=BUYERS)
    sign_in(web, MemberFactory())
    response = post_form(
        web,
        f"/contests/{contest.id}/enter",
        {"caption": "x", "photo": (io.BytesIO(jpeg()), "a.jpg")},
        page=f"/contests/{contest.id}",
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    assert ("danger", "This contest is open to a chosen group of members only.") in flashes(web)


def test_the_portals_segments_decide_who_may_enter(app):
    """As wired by the composition root: a saved segment (city Tehran) opens a contest to its members only."""
    from portal.admin.segments import services as segment_services

    admin = AdminFactory()
    segment = segment_services.create_segment(
        actor=admin, name_fa="تهرانی‌ها", name_en="Tehran members", criteria={"cities": ["Tehran"]}
    )
    assert (segment.id, "Tehran members") in policies.audience_choices() or any(
        choice[0] == segment.id for choice in policies.audience_choices()
    )
    contest = ContestFactory(enter_segment_id=segment.id)
    inside, outside = MemberFactory(city="tehran"), MemberFactory(city="Shiraz")
    assert services.enter_contest(actor=inside, contest=contest, stream=jpeg()).member_id == inside.id
    with pytest.raises(NotAllowed):
        services.enter_contest(actor=outside, contest=contest, stream=jpeg())
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Entry).where(Entry.contest_id == contest.id)) == 1
