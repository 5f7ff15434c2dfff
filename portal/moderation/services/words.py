"""The word filter: words and phrases to block, hold for review or replace, matched on folded text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.accounts.models import Member
from portal.db import db
from portal.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from portal.moderation import policies
from portal.moderation.models import WordAction, WordRule
from portal.moderation.services import audit
from portal.textfold import fold_text, fold_with_offsets

LINK = re.compile(r"https?://|www\.", re.I)


@dataclass
class ScanResult:
    """What the filter found in a text; ``replaced`` is the new text when a replace rule matched."""

    blocked: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    replaced: str | None = None


def _pattern(folded: str) -> re.Pattern[str]:
    # Whole words only: "ass" must not match "class"; folded text has no ZWNJ left to confuse \w.
    return re.compile(r"(?<!\w)" + re.escape(folded) + r"(?!\w)")


def scan(text: str, rules: list[WordRule] | None = None) -> ScanResult:
    """Matches every rule against the folded text; replacements are made in the original text."""
    result = ScanResult()
    if not text:
        return result
    rules = rules if rules is not None else list(db.session.scalars(sa.select(WordRule)))
    if not rules:
        return result
    folded, offsets = fold_with_offsets(text)
    spans: list[tuple[int, int, str]] = []
    for rule in rules:
        matches = list(_pattern(rule.folded).finditer(folded))
        if not matches:
            continue
        if rule.action == WordAction.BLOCK:
            result.blocked.append(rule.word)
        elif rule.action == WordAction.HOLD:
            result.held.append(rule.word)
        else:
            for match in matches:
                spans.append((offsets[match.start()], offsets[match.end() - 1] + 1, rule.replacement or "***"))
    if spans:
        out, last = [], 0
        for start, end, replacement in sorted(spans):
            if start < last:
                continue
            out.append(text[last:start])
            out.append(replacement)
            last = end
        out.append(text[last:])
        result.replaced = "".join(out)
    return result


def count_links(text: str) -> int:
    return len(LINK.findall(text or ""))


def add_rule(*, actor: Member, word: str, action: str, replacement: str | None = None) -> WordRule:
    if not policies.can_manage_words(actor):
        raise NotAllowed()
    word = (word or "").strip()
    folded = fold_text(word).strip()
    if not folded:
        raise ValidationFailed(_l("Enter a word or phrase."), fields={"word": "required"})
    if action not in {a.value for a in WordAction}:
        raise ValidationFailed(_l("Choose what the filter does."), fields={"action": "unknown"})
    replacement = (replacement or "").strip() or None
    if action == WordAction.REPLACE and not replacement:
        raise ValidationFailed(_l("Enter the replacement text."), fields={"replacement": "required"})
    if db.session.scalar(sa.select(WordRule.id).where(WordRule.folded == folded)):
        raise Conflict(_l("This word (or a spelling of it) is already in the filter."), fields={"word": "taken"})
    rule = WordRule(word=word, folded=folded, action=action, replacement=replacement, created_by_id=actor.id)
    db.session.add(rule)
    db.session.flush()
    audit.record(
        actor_id=actor.id,
        action="moderation.add_word",
        object_kind="word_rule",
        object_id=rule.id,
        after={"word": word, "action": action, "replacement": replacement},
    )
    return rule


def delete_rule(*, actor: Member, rule_id: int) -> None:
    if not policies.can_manage_words(actor):
        raise NotAllowed()
    rule = db.session.get(WordRule, rule_id)
    if rule is None:
        raise NotFound()
    audit.record(
        actor_id=actor.id,
        action="moderation.delete_word",
        object_kind="word_rule",
        object_id=rule.id,
        before={"word": rule.word, "action": rule.action, "replacement": rule.replacement},
    )
    db.session.delete(rule)
