"""Demo quizzes: a Persian and an English quiz, open now, with their question banks; idempotent."""

from __future__ import annotations

from datetime import timedelta

import click
import sqlalchemy as sa

from gamification.quizzes import services
from gamification.quizzes.models import QuestionBank
from portal.db import db, utcnow

FA_BANK = "دانستنی‌های باشگاه مشتریان"
EN_BANK = "Customer club basics"

FA_QUESTIONS = [
    (
        "single",
        "امتیاز قابل خرج برای چه استفاده می‌شود؟",
        [("دریافت جایزه از کاتالوگ", True), ("بالا رفتن سطح", False), ("تغییر رمز عبور", False)],
        "امتیاز قابل خرج برای **جایزه‌ها** است؛ سطح با امتیاز واجد شرایط تعیین می‌شود.",
    ),
    (
        "truefalse",
        "امتیاز کارهایی که روی محتوای خودتان انجام می‌دهید (مثلاً پسندیدن پست خود) حساب نمی‌شود.",
        True,
        "کارهای روی محتوای خود امتیاز ندارند.",
    ),
    (
        "multiple",
        "کدام‌ها از سطح‌های رایج باشگاه مشتریان هستند؟",
        [("نقره‌ای", True), ("طلایی", True), ("پلاتینیوم", True), ("چوبی", False)],
        "نقره‌ای، طلایی و پلاتینیوم.",
    ),
    (
        "single",
        "کد پیگیری تیکت به چه کاری می‌آید؟",
        [("دنبال کردن وضعیت تیکت", True), ("ورود به حساب", False), ("دعوت از دوستان", False)],
        "با کد پیگیری، حتی بدون حساب کاربری، وضعیت تیکت را می‌بینید.",
    ),
    (
        "truefalse",
        "در قرعه‌کشی‌های باشگاه، بذر تصادفی پیش از بسته شدن ثبت‌نام منتشر می‌شود.",
        False,
        "پیش از بسته شدن فقط **تعهد** به بذر منتشر می‌شود و خود بذر بعد از آن.",
    ),
    (
        "single",
        "با کد معرفی چه کسی امتیاز می‌گیرد؟",
        [("معرف، وقتی عضو تازه فعال شود", True), ("هیچ‌کس", False), ("فقط مدیر", False)],
        "",
    ),
]
EN_QUESTIONS = [
    ("single", "What are spendable points for?",
     [("Redeeming rewards", True), ("Reaching a higher tier", False), ("Changing your password", False)],
     "Spendable points buy **rewards**; tiers follow qualifying points."),
    ("truefalse", "Liking your own post earns you points.", False, "Actions on your own content never pay."),
    ("multiple", "Which of these are usual customer club tiers?",
     [("Silver", True), ("Gold", True), ("Platinum", True), ("Wooden", False)], "Silver, gold and platinum."),
    ("single", "What is a ticket's tracking code for?",
     [("Following the ticket's status", True), ("Logging in", False), ("Inviting friends", False)],
     "Guests can follow their ticket with it, too."),
    ("truefalse", "Points from a purchase stay pending through the return window.", True, ""),
    ("single", "Who earns points for a referral?",
     [("The referrer, once the new member is active", True), ("Nobody", False), ("Only admins", False)], ""),
]  # fmt: skip


def _bank(name: str, language: str, questions: list) -> QuestionBank:
    bank = services.create_bank(actor=None, name=name, language=language)
    for kind, text, options_or_answer, explanation in questions:
        if kind == "truefalse":
            services.add_question(
                actor=None, bank=bank, kind=kind, text=text, true_is_correct=options_or_answer, explanation=explanation
            )
        else:
            services.add_question(
                actor=None, bank=bank, kind=kind, text=text, options=options_or_answer, explanation=explanation
            )
    return bank


def seed_quizzes() -> None:
    """Creates the demo banks and quizzes once (the English bank's name marks them)."""
    if db.session.scalar(sa.select(QuestionBank.id).where(QuestionBank.name == EN_BANK)):
        click.echo("quizzes: demo quizzes already present")
        return
    now = utcnow()
    fa_bank = _bank(FA_BANK, "fa", FA_QUESTIONS)
    en_bank = _bank(EN_BANK, "en", EN_QUESTIONS)
    services.create_quiz(
        actor=None,
        data=services.QuizData(
            title="آزمون باشگاه مشتریان",
            description="پنج پرسش از قوانین باشگاه. با **۶۰٪** قبول می‌شوید.",
            bank_id=fa_bank.id, selection="draw", draw_count=5, time_limit_seconds=300, attempts_allowed=3,
            pass_percent=60, opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=30),
            pass_points=50, points_per_correct=5, layout="one",
        ),
    )  # fmt: skip
    services.create_quiz(
        actor=None,
        data=services.QuizData(
            title="Customer club quiz",
            description="Six questions on how the club works, all on one page. Pass with **60%**.",
            bank_id=en_bank.id, selection="draw", draw_count=6, time_limit_seconds=300, attempts_allowed=3,
            pass_percent=60, opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=30),
            pass_points=50, points_per_correct=5, layout="all",
        ),
    )  # fmt: skip
    click.echo("quizzes: 2 banks, 12 questions, 2 quizzes")
