"""Polls on topics: attaching one when the topic opens, and voting (once, single or multiple choice)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from forums import policies
from forums.models import Poll, PollOption, PollVote, Topic
from portal.db import db, utcnow
from portal.errors import Conflict, NotAllowed, ValidationFailed
from portal.events import emit

MAX_OPTIONS = 10


def attach_poll(
    topic: Topic,
    *,
    question: str,
    options: list[str],
    multiple: bool = False,
    closes_at: datetime | None = None,
) -> Poll:
    question = " ".join((question or "").split())
    texts = [" ".join(o.split()) for o in options if o and o.strip()]
    if not question or len(question) > 300:
        raise ValidationFailed(
            _l("A poll needs a question of at most 300 characters."), fields={"poll_question": "bad"}
        )
    if len(texts) < 2 or len(texts) > MAX_OPTIONS or len(set(texts)) != len(texts):
        raise ValidationFailed(
            _l("A poll needs between 2 and %(n)s different options.", n=MAX_OPTIONS), fields={"poll_options": "bad"}
        )
    if any(len(t) > 200 for t in texts):
        raise ValidationFailed(_l("Each poll option can be at most 200 characters."), fields={"poll_options": "long"})
    if closes_at is not None and closes_at <= utcnow():
        raise ValidationFailed(_l("The closing time must be in the future."), fields={"poll_closes_at": "past"})
    poll = Poll(topic_id=topic.id, question=question, multiple=multiple, closes_at=closes_at)
    poll.options = [PollOption(text=text, position=i) for i, text in enumerate(texts)]
    db.session.add(poll)
    topic.has_poll = True
    db.session.flush()
    return poll


def has_voted(poll_id: int, member_id: int) -> bool:
    return (
        db.session.scalar(
            sa.select(PollVote.option_id).where(PollVote.poll_id == poll_id, PollVote.member_id == member_id).limit(1)
        )
        is not None
    )


def vote(*, actor: Any, poll: Poll, option_ids: list[int]) -> None:
    """Records the member's choice; the counts move with atomic increments."""
    if not policies.can_start_topic(actor):
        raise NotAllowed(_l("Log in to vote."))
    if not poll.is_open():
        raise Conflict(_l("This poll is closed."))
    chosen = sorted({int(i) for i in option_ids})
    if not chosen:
        raise ValidationFailed(_l("Choose an option before voting."), fields={"options": "empty"})
    if not poll.multiple and len(chosen) > 1:
        raise ValidationFailed(_l("This poll takes one choice only."), fields={"options": "many"})
    valid = set(db.session.scalars(sa.select(PollOption.id).where(PollOption.poll_id == poll.id)))
    if not set(chosen) <= valid:
        raise ValidationFailed(_l("That option is not part of this poll."), fields={"options": "unknown"})
    if has_voted(poll.id, actor.id):
        raise Conflict(_l("You have already voted in this poll."))
    for option_id in chosen:
        db.session.add(PollVote(option_id=option_id, member_id=actor.id, poll_id=poll.id))
    db.session.flush()
    options = PollOption.__table__
    db.session.execute(sa.update(options).where(options.c.id.in_(chosen)).values(vote_count=options.c.vote_count + 1))
    polls = Poll.__table__
    db.session.execute(sa.update(polls).where(polls.c.id == poll.id).values(voter_count=polls.c.voter_count + 1))
    topic = db.session.get(Topic, poll.topic_id)
    emit(
        "poll.voted",
        member_id=actor.id,
        source=("poll_vote", f"{poll.id}:{actor.id}"),
        attributes={
            "poll_id": poll.id,
            "topic_id": poll.topic_id,
            "category_id": topic.category_id if topic else None,
            "option_ids": chosen,
            "topic_author_id": topic.author_id if topic else None,
        },
    )
