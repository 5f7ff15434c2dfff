"""The word filter: block, hold or replace, matched after Persian/Arabic folding; managed by admins."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.db import utcnow
from portal.errors import Conflict, NotAllowed, ValidationFailed
from portal.extensions import db
from portal.moderation.models import QueueItem, WordRule
from portal.moderation.services import trust, words
from tests.factories import AdminFactory, MemberFactory, ModeratorFactory
from tests.portal.web import csrf_token, post_form, sign_in


def _rule(word, action, replacement=None):
    return words.add_rule(actor=AdminFactory(), word=word, action=action, replacement=replacement)


def _veteran():
    member = MemberFactory(created_at=utcnow() - timedelta(days=30))
    trust.record_for(member.id).approved_posts = 10
    db.session.flush()
    return member


def test_variant_spellings_are_caught_after_folding():
    rule = _rule("كلاهبردار", "block")  # Arabic kaf, as an admin might type it
    assert rule.folded == "کلاهبردار"
    for text in ("این کلاهبردار است", "این كلاهبردار است", "این کلاه‌بردار است", "این کـلاهبـردار است"):
        assert words.scan(text).blocked == ["كلاهبردار"], text


def test_only_whole_words_match():
    _rule("ass", "block")
    assert words.scan("first class service").blocked == []
    assert words.scan("what an ASS!").blocked == ["ass"]


def test_replacement_happens_in_the_original_text_keeping_everything_else():
    _rule("احمق", "replace", "***")
    result = words.scan("تو احمق هستی، واقعاً أحمق!")
    assert result.replaced == "تو *** هستی، واقعاً ***!"


def test_a_blocked_word_refuses_the_post_and_rolls_it_back(content):
    _rule("spamword", "block")
    member = _veteran()
    with pytest.raises(ValidationFailed, match="not allowed here: spamword"):
        content.publish(author=member, body="buy SPAMWORD now")


def test_a_hold_word_sends_the_post_to_the_queue(content):
    _rule("قمار", "hold")
    post = content.publish(author=_veteran(), body="سایت قمار")
    assert content.state(post) == "held"
    item = db.session.scalar(sa.select(QueueItem))
    assert (item.reason, item.note) == ("held_words", "قمار")


def test_a_replace_word_rewrites_the_post_through_the_adapter(content):
    _rule("darn", "replace", "d**n")
    post = content.publish(author=_veteran(), body="Darn it")
    assert content.row(post).body == "d**n it"
    assert content.state(post) == "visible"


def test_rule_validation():
    with pytest.raises(ValidationFailed):
        _rule("   ", "block")
    with pytest.raises(ValidationFailed):
        _rule("x", "explode")
    with pytest.raises(ValidationFailed):
        _rule("x", "replace")
    _rule("كتاب", "hold")
    with pytest.raises(Conflict):
        _rule("کتاب", "block")
    with pytest.raises(NotAllowed):
        words.add_rule(actor=ModeratorFactory(), word="y", action="block")


def test_the_admin_page_adds_and_removes_words(web):
    sign_in(web, AdminFactory())
    response = post_form(web, "/moderation/words", {"word": "badword", "action": "block"})
    assert response.status_code == 303
    rule = db.session.scalar(sa.select(WordRule))
    assert (rule.word, rule.action) == ("badword", "block")
    assert "badword" in web.get("/moderation/words").get_data(as_text=True)
    duplicate = post_form(web, "/moderation/words", {"word": "BADWORD", "action": "hold"})
    assert duplicate.status_code == 422
    assert "already in the filter" in duplicate.get_data(as_text=True)
    web.post(f"/moderation/words/{rule.id}/delete", data={"csrf_token": csrf_token(web)})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WordRule)) == 0


@pytest.mark.parametrize("factory", [MemberFactory, ModeratorFactory])
def test_only_admins_reach_the_word_filter(web, factory):
    sign_in(web, factory())
    assert web.get("/moderation/words").status_code == 403
