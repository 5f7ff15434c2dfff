"""The demo club's engine: default rules for every event, three tiers, twenty badges, some history."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import click
import sqlalchemy as sa

from gamification.engine import ledger, services
from gamification.engine.models import Badge, PointEntry, Rule, Tier
from portal.accounts.models import Member
from portal.db import db, utcnow

# A rule paying exactly the points an event states in its ``amount`` (no multiplier, no community cap).
PAY_THE_AMOUNT: dict[str, Any] = {"amount_unit": 1, "community": False, "apply_multiplier": False}

# code, event type, points, fa name, en name, extra settings
DEFAULT_RULES: list[tuple[str, str, int, str, str, dict[str, Any]]] = [
    ("post", "post.created", 5, "ارسال پاسخ در تالار", "Forum reply", {"cap_day": 50}),
    ("topic", "topic.created", 10, "شروع موضوع تازه", "New forum topic", {"cap_day": 50}),
    ("like", "like.received", 2, "دریافت پسند", "Like received", {"cap_day": 40}),
    ("mention", "mention.created", 1, "نام برده شدن", "Mentioned", {"cap_day": 10}),
    ("accepted", "answer.accepted", 15, "پاسخ پذیرفته‌شده", "Accepted answer", {"cap_day": 75}),
    ("poll", "poll.voted", 1, "شرکت در نظرسنجی تالار", "Poll vote", {"cap_day": 5}),
    ("article", "article.published", 30, "انتشار مقاله", "Article published", {"cap_week": 90}),
    ("comment", "comment.created", 2, "نوشتن دیدگاه", "Comment", {"cap_day": 20}),
    # Quizzes and contests state their own points (the admin sets them on the quiz or contest)
    # and send them as the event's amount: these rules pay one point per unit of it, as announced.
    ("quiz-passed", "quiz.passed", 1, "قبولی در آزمون", "Quiz passed", PAY_THE_AMOUNT),
    ("quiz-completed", "quiz.completed", 1, "پاسخ درست در آزمون", "Quiz correct answers", PAY_THE_AMOUNT),
    ("contest-entry", "contest.entered", 1, "شرکت در مسابقه عکس", "Photo contest entry", PAY_THE_AMOUNT),
    ("contest-vote", "contest.voted", 1, "رأی در مسابقه عکس", "Photo contest vote", {"cap_day": 10}),
    ("contest-won", "contest.won", 1, "جایزه مسابقه عکس", "Photo contest prize", PAY_THE_AMOUNT),
    ("survey", "survey.answered", 10, "پاسخ به پرسش‌نامه", "Survey answered", {"cap_day": 30}),
    ("event", "event.attended", 15, "حضور در رویداد", "Event attended", {}),
    ("ticket-rated", "ticket.rated", 3, "امتیاز به پشتیبانی", "Support ticket rated", {"cap_month": 15}),
    ("kb-helpful", "kb.article_helpful", 1, "بازخورد پایگاه دانش", "Knowledge-base feedback", {"cap_day": 5}),
    ("profile", "profile.completed", 50, "تکمیل نمایه", "Profile completed", {}),
    ("verified", "member.verified", 10, "تأیید نشانی ایمیل", "Email confirmed", {}),
    ("referral", "referral.joined", 100, "معرفی دوست", "Friend referred", {"cap_month": 500, "community": False}),
    (
        "purchase",
        "purchase.recorded",
        1,
        "خرید (هر ۱۰٬۰۰۰ ریال یک امتیاز)",
        "Purchase (1 point per 10,000 rials)",
        {"amount_unit": 10_000, "community": False, "expires_days": 365},
    ),
    (
        "unsubscribe",
        "newsletter.unsubscribed",
        -20,
        "لغو عضویت خبرنامه",
        "Newsletter unsubscribed",
        {"community": False, "feeds": "spendable"},
    ),
    ("subscribe", "newsletter.subscribed", 10, "عضویت در خبرنامه", "Newsletter subscribed", {"cap_lifetime": 10}),
    ("review", "review.written", 10, "نوشتن نقد محصول", "Product review", {"cap_day": 30}),
    ("birthday", "birthday", 50, "هدیه تولد", "Birthday gift", {"community": False, "feeds": "spendable"}),
]

DEFAULT_TIERS = [
    ("silver", "نقره‌ای", "Silver", 500, 100, False, "#9aa4ad", "دسترسی به تالار ویژه اعضا", "Members' lounge forum"),
    (
        "gold",
        "طلایی",
        "Gold",
        2000,
        125,
        True,
        "#d4a017",
        "۲۵٪ امتیاز بیشتر، دسترسی زودهنگام",
        "25% more points, early access",
    ),
    (
        "platinum",
        "پلاتینیوم",
        "Platinum",
        5000,
        150,
        True,
        "#5b6c8f",
        "۵۰٪ امتیاز بیشتر، دسترسی زودهنگام، پشتیبانی ویژه",
        "50% more points, early access, priority support",
    ),
]

# code, icon, fa, en, kind, event type, threshold, tier
DEFAULT_BADGES = [
    ("first-post", "✍️", "نخستین پاسخ", "First reply", "event_count", "post.created", 1, None),
    ("regular", "📝", "پای ثابت تالار", "Regular", "event_count", "post.created", 50, None),
    ("topic-starter", "💬", "آغازگر گفتگو", "Conversation starter", "event_count", "topic.created", 10, None),
    ("liked", "👍", "پسندیده", "Liked", "event_count", "like.received", 10, None),
    ("loved", "❤️", "محبوب", "Loved", "event_count", "like.received", 100, None),
    ("helper", "🤝", "یاریگر", "Helper", "event_count", "answer.accepted", 10, None),
    ("quiz-whiz", "🧠", "استاد آزمون", "Quiz whiz", "event_count", "quiz.passed", 5, None),
    ("photographer", "📷", "عکاس", "Photographer", "event_count", "contest.entered", 1, None),
    ("champion", "🏆", "قهرمان", "Champion", "event_count", "contest.won", 1, None),
    ("voice", "🗳️", "صدای مشتری", "Customer voice", "event_count", "survey.answered", 5, None),
    ("shopper", "🛍️", "نخستین خرید", "First purchase", "event_count", "purchase.recorded", 1, None),
    ("loyal-buyer", "💎", "خریدار وفادار", "Loyal buyer", "event_count", "purchase.recorded", 10, None),
    ("recruiter", "📣", "سفیر باشگاه", "Ambassador", "event_count", "referral.joined", 3, None),
    ("complete", "✅", "نمایه کامل", "Complete profile", "event_count", "profile.completed", 1, None),
    ("points-1000", "⭐", "هزار امتیازی", "1,000 points", "points_reached", None, 1000, None),
    ("points-10000", "🌟", "ده‌هزار امتیازی", "10,000 points", "points_reached", None, 10000, None),
    ("gold", "🥇", "عضو طلایی", "Gold member", "tier_reached", None, 1, "gold"),
    ("platinum", "👑", "عضو پلاتینیوم", "Platinum member", "tier_reached", None, 1, "platinum"),
    ("streak-7", "🔥", "یک هفته پیاپی", "7-day streak", "streak", None, 7, None),
    ("streak-30", "⚡", "یک ماه پیاپی", "30-day streak", "streak", None, 30, None),
]


def seed_rules_tiers_badges() -> tuple[int, int, int]:
    """Adds the default rules, tiers and badges that are missing (by code); returns how many were added."""
    have_rules = set(db.session.scalars(sa.select(Rule.code)))
    rules = [
        Rule(code=code, event_type=event_type, points=points, name_fa=fa, name_en=en, **extra)
        for code, event_type, points, fa, en, extra in DEFAULT_RULES
        if code not in have_rules
    ]
    have_tiers = set(db.session.scalars(sa.select(Tier.code)))
    tiers = [
        Tier(
            code=code,
            name_fa=fa,
            name_en=en,
            threshold=threshold,
            multiplier_percent=multiplier,
            early_access=early,
            color=color,
            benefits_fa=benefits_fa,
            benefits_en=benefits_en,
        )
        for code, fa, en, threshold, multiplier, early, color, benefits_fa, benefits_en in DEFAULT_TIERS
        if code not in have_tiers
    ]
    have_badges = set(db.session.scalars(sa.select(Badge.code)))
    badges = [
        Badge(
            code=code,
            icon=icon,
            name_fa=fa,
            name_en=en,
            kind=kind,
            event_type=event_type,
            threshold=threshold,
            tier_code=tier,
        )
        for code, icon, fa, en, kind, event_type, threshold, tier in DEFAULT_BADGES
        if code not in have_badges
    ]
    db.session.add_all([*rules, *tiers, *badges])
    db.session.flush()
    return len(rules), len(tiers), len(badges)


def seed_engine() -> None:
    """The demo seeder (DEMO_SEEDERS): defaults, then a few weeks of activity for the demo members."""
    added = seed_rules_tiers_badges()
    click.echo(f"engine: {added[0]} rules, {added[1]} tiers, {added[2]} badges added")
    if db.session.scalar(sa.select(PointEntry.id).where(PointEntry.idempotency_key.like("%:x:demo-%")).limit(1)):
        click.echo("engine: demo history already present")
        return
    members = list(
        db.session.scalars(
            sa.select(Member.id)
            .where(Member.email.like("%@bashgah.example"), Member.role == "member")
            .order_by(Member.id)
        )
    )
    if not members:
        return
    rng = random.Random(1405)  # the same club every time
    now = utcnow()
    items: list[dict[str, Any]] = []
    for index, member_id in enumerate(members):
        activity = len(members) - index  # the first members are the most active
        for n in range(activity * 3):
            kind = rng.choice(["post.created", "like.received", "survey.answered", "quiz.passed", "topic.created"])
            other = rng.choice([m for m in members if m != member_id] or [member_id])
            items.append(
                {
                    "member_id": member_id,
                    "event_type": kind,
                    "idempotency_key": f"demo-{member_id}-{n}",
                    "occurred_at": now - timedelta(days=rng.randint(0, 40)),
                    "attributes": {"actor_id": other}
                    if kind == "like.received"
                    else {"reference": f"demo-{member_id}-{n}"},
                    **({"amount": 20} if kind == "quiz.passed" else {}),
                }
            )
        for n in range(activity):
            items.append(
                {
                    "member_id": member_id,
                    "event_type": "purchase.recorded",
                    "amount": rng.randint(5, 400) * 100_000,
                    "idempotency_key": f"demo-buy-{member_id}-{n}",
                    "attributes": {"reference": f"demo-order-{member_id}-{n}"},
                }
            )
    results = services.record_events(items)
    # The demo pretends its purchases are past their return window.
    released = ledger.release_pending(now + timedelta(days=30))
    click.echo(f"engine: {len(results)} demo events recorded, {released} purchases released")
