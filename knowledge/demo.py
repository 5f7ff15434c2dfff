"""The demo club's knowledge base and help desk: bilingual articles, a second agent, teams, tickets in every state."""

from __future__ import annotations

from datetime import timedelta

import click
import sqlalchemy as sa

from knowledge.kb import services as kb_services
from knowledge.kb.models import KbCategory
from knowledge.kb.queries import SEARCH_KIND
from knowledge.tickets import desk, services, sla
from knowledge.tickets.jobs import sweep_sla
from portal import search
from portal.accounts import services as account_services
from portal.accounts.models import Member
from portal.db import db, utcnow

DEMO_PASSWORD = "bashgah-demo"  # noqa: S105 - the demo accounts' published password

CATEGORIES = [
    ("getting-started", "شروع کار", "Getting started"),
    ("points-and-rewards", "امتیاز و جایزه", "Points and rewards"),
    ("account", "حساب کاربری", "Your account"),
]

# (category index, fa title, fa body, en title, en body)
ARTICLES = [
    (
        0,
        "چطور عضو باشگاه شوم؟",
        "برای عضویت روی **پیوستن به باشگاه** بزنید، ایمیل و رمز عبور را وارد کنید "
        "و پیوند تأیید را در ایمیل باز کنید.\n\n"
        "اگر کد معرف دارید، در همان فرم واردش کنید.",
        "How do I join the club?",
        "Choose **Join the club**, enter your email and a password, then open the confirmation link we email you.\n\n"
        "If a friend gave you a referral code, enter it in the same form.",
    ),
    (
        1,
        "امتیاز چطور محاسبه می‌شود؟",
        "با هر خرید، نوشتن در تالار و شرکت در مسابقه‌ها امتیاز می‌گیرید. امتیازهای هر فعالیت در صفحهٔ "
        "«امتیازهای من» با دلیلش نمایش داده می‌شود.",
        "How are points calculated?",
        "You earn points for purchases, forum posts and contests. The *My points* page lists every entry with "
        "its reason.",
    ),
    (
        1,
        "تاریخ انقضای امتیازها",
        "امتیازها دوازده ماه پس از کسب منقضی می‌شوند؛ قدیمی‌ترین امتیازها زودتر مصرف می‌شوند.",
        "When do points expire?",
        "Points expire twelve months after you earn them; the oldest points are used first.",
    ),
    (
        2,
        "رمز عبورم را فراموش کرده‌ام",
        "در صفحهٔ ورود روی «رمز عبور را فراموش کرده‌اید؟» بزنید تا پیوند بازنشانی برایتان ایمیل شود.",
        "I forgot my password",
        "On the login page choose *Forgot your password?* and we will email you a reset link.",
    ),
]

CANNED = [
    (
        "Greeting / سلام",
        "سلام {name}،\n\nممنون که با ما تماس گرفتید. درخواست شما با کد پیگیری {tracking_code} ثبت شده است.",
    ),
    (
        "Password reset",
        "Hello {name},\n\nYou can reset your password from the login page. Your ticket: {tracking_code}.",
    ),
]


def _member(email: str) -> Member | None:
    return db.session.scalar(sa.select(Member).where(Member.email == email))


def seed_knowledge() -> None:
    """Creates the demo KB and help desk; safe to run again (it stops when the KB exists)."""
    if db.session.scalar(sa.select(KbCategory.id).where(KbCategory.slug == CATEGORIES[0][0])):
        click.echo("knowledge: demo knowledge base already present")
        return
    admin = _member("admin@bashgah.example")
    agent = _member("agent@bashgah.example")
    customer = _member("member@bashgah.example")
    if admin is None or agent is None or customer is None:
        click.echo("knowledge: the demo accounts are missing; run the accounts seeder first")
        return
    agent2 = _member("agent2@bashgah.example") or account_services.create_member_cli(
        email="agent2@bashgah.example", password=DEMO_PASSWORD, display_name="رضا پشتیبان", role="agent"
    )
    agent2.language = "fa"
    db.session.flush()

    categories = [
        kb_services.create_category(actor=admin, slug=slug, name_fa=fa, name_en=en, position=i)
        for i, (slug, fa, en) in enumerate(CATEGORIES)
    ]
    for index, fa_title, fa_body, en_title, en_body in ARTICLES:
        original = kb_services.create_article(
            actor=admin, category_id=categories[index].id, language="fa", title=fa_title, body=fa_body
        )
        translation = kb_services.create_article(
            actor=agent,
            category_id=categories[index].id,
            language="en",
            title=en_title,
            body=en_body,
            translation_of_id=original.id,
        )
        kb_services.publish_article(actor=agent, article=original)
        kb_services.publish_article(actor=agent, article=translation)
    kb_services.create_article(
        actor=agent,
        category_id=categories[2].id,
        language="en",
        title="Changing your email address (draft)",
        body="Open *Account settings* and enter the new address.",
    )

    desk.save_team(
        actor=admin,
        name="Customer care",
        is_private=False,
        round_robin=True,
        kinds=["support", "suggestion"],
        member_ids=[agent.id, agent2.id],
    )
    desk.save_team(
        actor=admin, name="Complaints", is_private=True, round_robin=False, kinds=["complaint"], member_ids=[agent2.id]
    )
    for title, body in CANNED:
        desk.create_canned(actor=agent, title=title, body=body)

    def open_(kind: str, subject: str, body: str, who: Member | None = None, email: str | None = None):
        return services.open_ticket(
            actor=who, kind=kind, subject=subject, body=body, email=email, language=getattr(who, "language", "fa")
        )

    reza = _member("reza@bashgah.example") or customer
    john = _member("john@bashgah.example") or customer
    open_("support", "امتیاز خرید دیروز ثبت نشده", "خرید دیروزم در فروشگاه هنوز امتیازی نگرفته است.", customer)
    opened = open_("support", "Cannot change my email", "The confirmation mail never arrives.", john)
    desk.reply(actor=agent, ticket=opened, body="We are looking into it, sorry for the wait.")
    pending = open_("suggestion", "پیشنهاد: اپلیکیشن موبایل", "کاش باشگاه اپلیکیشن موبایل داشت.", reza)
    desk.reply(actor=agent2, ticket=pending, body="ممنون! برای کدام سیستم‌عامل؟", then_status="pending_customer")
    resolved = open_("support", "Forgot my password", "I cannot log in any more.", john)
    desk.reply(actor=agent, ticket=resolved, body="Use the reset link on the login page.", then_status="resolved")
    services.rate_ticket(ticket=resolved, rating=5, comment="Quick and clear, thanks!")
    closed = open_("complaint", "تأخیر در ارسال سفارش", "سفارش من دو هفته است نرسیده.", customer)
    desk.assign(actor=admin, ticket=closed, assignee_id=agent2.id, team_id=closed.team_id)
    desk.add_note(actor=agent2, ticket=closed, body="با انبار تماس گرفتم؛ بسته امروز ارسال شد.")
    desk.reply(actor=agent2, ticket=closed, body="بستهٔ شما امروز ارسال شد. پوزش بابت تأخیر.", then_status="closed")
    guest = open_("support", "Question about gift cards", "Can a gift card be used online?", None, "guest@example.com")
    # One old ticket whose SLA has run out, so the desk shows a breach.
    late = open_("complaint", "No answer for a week", "Nobody has answered my call.", reza)
    late.created_at = utcnow() - timedelta(days=9)
    sla.recompute(late)
    db.session.flush()
    sweep_sla()
    # The index jobs queued by publishing may not outlive a CLI process: index the articles now.
    search.reindex([SEARCH_KIND])
    click.echo(f"knowledge: {len(ARTICLES) * 2 + 1} articles, 2 teams, 7 tickets (guest: {guest.tracking_code})")
