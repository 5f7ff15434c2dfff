"""The member dossier: posts through the registry, flags both ways, sanctions, notes, sign-up source, points hook."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from markupsafe import Markup

from portal.extensions import db
from portal.moderation import hooks
from portal.moderation.models import ModeratorNote
from portal.moderation.services import flags, sanctions
from tests.factories import AgentFactory, MemberFactory, ModeratorFactory
from tests.portal.web import csrf_token, sign_in


def test_the_dossier_gathers_the_members_history(web, content):
    referrer = MemberFactory(display_name="Reza Referrer")
    member = MemberFactory(
        display_name="Dana Dossier", signup_source="referral", signup_ip="198.51.100.7", referred_by_id=referrer.id
    )
    content.create(author=member, title="Dana's first post")
    flags.flag_content(
        actor=MemberFactory(), kind="post", object_id=content.create(author=member, title="Rude").id, reason="abuse"
    )
    flags.flag_content(actor=member, kind="post", object_id=content.create(author=MemberFactory()).id, reason="spam")
    sanctions.issue_sanction(actor=ModeratorFactory(), member=member, kind="warning", reason="Mind the tone")
    sign_in(web, ModeratorFactory())
    html = web.get(f"/moderation/members/{member.id}").get_data(as_text=True)
    assert "Dana&#39;s first post" in html
    assert "Rude" in html
    assert html.count('class="flag-against"') == 1
    assert html.count('class="flag-by"') == 1
    assert "Mind the tone" in html
    assert "not read yet" in html
    assert 'data-testid="signup-source">referral<' in html
    assert "198.51.100.7" in html
    assert "Reza Referrer" in html
    assert "Points history" not in html


def test_moderators_add_notes(web):
    member = MemberFactory()
    moderator = ModeratorFactory(display_name="Mina")
    sign_in(web, moderator)
    web.post(
        f"/moderation/members/{member.id}/notes", data={"csrf_token": csrf_token(web), "text": "Called them; sorted."}
    )
    note = db.session.scalar(sa.select(ModeratorNote))
    assert (note.member_id, note.author_id, note.text) == (member.id, moderator.id, "Called them; sorted.")
    assert "Called them; sorted." in web.get(f"/moderation/members/{member.id}").get_data(as_text=True)


def test_the_points_history_hook_renders_what_the_engine_provides(web):
    member = MemberFactory()
    hooks.set_points_history_provider(lambda member_id: Markup("<p class='ledger'>ledger of {}</p>").format(member_id))
    try:
        sign_in(web, ModeratorFactory())
        html = web.get(f"/moderation/members/{member.id}").get_data(as_text=True)
        assert "Points history" in html
        assert f"ledger of {member.id}" in html
    finally:
        hooks.set_points_history_provider(None)


@pytest.mark.parametrize("factory", [MemberFactory, AgentFactory])
def test_only_moderators_open_dossiers(web, factory):
    member = MemberFactory()
    sign_in(web, factory())
    assert web.get(f"/moderation/members/{member.id}").status_code == 403
    assert (
        web.post(
            f"/moderation/members/{member.id}/notes", data={"csrf_token": csrf_token(web), "text": "x"}
        ).status_code
        == 403
    )


def test_an_unknown_member_is_404(web):
    sign_in(web, ModeratorFactory())
    assert web.get("/moderation/members/987654").status_code == 404
