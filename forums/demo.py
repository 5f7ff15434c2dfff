"""The demo club's forums: categories by product, learning and customer group; topics, replies, likes, a poll."""

from __future__ import annotations

import random
from datetime import timedelta

import click
import sqlalchemy as sa

from forums import polls, services, social
from forums.bench import bulk_replies
from forums.models import Category, Poll, PollOption, Post, Topic
from portal import search
from portal.accounts.models import Member
from portal.db import db, utcnow

# (key, name, description, icon, colour, parent key, allowed roles, minimum tier)
CATEGORIES = [
    ("products", "محصولات", "پرسش و پاسخ دربارهٔ محصولات و خدمات", "📦", "blue", None, [], None),
    ("phones", "گوشی و تبلت", "تنظیمات، باتری، به‌روزرسانی و لوازم جانبی", "📱", "teal", "products", [], None),
    (
        "laptops",
        "Laptops & accessories",
        "Setup, performance, warranty and repairs",
        "💻",
        "purple",
        "products",
        [],
        None,
    ),
    ("learning", "آموزش", "راهنماها، وبینارها و ترفندهای کاربردی", "🎓", "green", None, [], None),
    ("guides", "Getting started", "Guides for new members of the club", "🧭", "orange", "learning", [], None),
    ("groups", "گروه‌های مشتریان", "گفتگو میان مشتریان هر گروه", "👥", "red", None, [], None),
    ("business", "مشتریان سازمانی", "برای شرکت‌ها و خریداران عمده", "🏢", "grey", "groups", [], None),
    ("gold", "باشگاه طلایی", "ویژهٔ اعضای سطح طلایی و بالاتر", "🥇", "orange", "groups", [], "gold"),
    ("staff", "Staff room", "Moderators and admins coordinate here", "🛡️", "grey", None, ["moderator", "admin"], None),
]

FA_TOPICS = [
    (
        "phones",
        "باتری گوشی زود خالی می‌شود",
        "سلام دوستان، از هفتهٔ پیش باتری گوشی‌ام نصف روز بیشتر دوام نمی‌آورد. راه‌حلی سراغ دارید؟",
    ),
    (
        "phones",
        "به‌روزرسانی جدید نرم‌افزار را نصب کردید؟",
        "نسخهٔ تازه آمده است. کسی تجربه‌ای از نصب آن دارد؟ **سرعت** بهتر شده؟",
    ),
    ("phones", "بهترین محافظ صفحه‌نمایش", "دنبال محافظ شیشه‌ای خوب هستم که حباب نزند. پیشنهاد شما چیست؟"),
    (
        "learning",
        "وبینار هفتهٔ آینده: امنیت حساب‌ها",
        "در این وبینار دربارهٔ رمزهای قوی و ورود دومرحله‌ای صحبت می‌کنیم. سؤال‌هایتان را اینجا بنویسید.",
    ),
    (
        "learning",
        "چطور امتیاز بیشتری بگیریم؟",
        "چند ترفند برای جمع کردن امتیاز در باشگاه:\n\n- پاسخ دادن به پرسش‌ها\n- شرکت در آزمون‌ها\n- دعوت از دوستان",
    ),
    ("business", "خرید عمده با تخفیف", "شرکت ما حدود پنجاه دستگاه لازم دارد. فرایند خرید سازمانی چگونه است؟"),
    ("business", "فاکتور رسمی برای شرکت‌ها", "برای دریافت فاکتور رسمی چه مدارکی لازم است؟"),
    ("gold", "پیشنهادهای ویژهٔ اعضای طلایی", "این ماه چه جایزه‌هایی برای اعضای طلایی در نظر گرفته شده است؟"),
    ("products", "نظرتان دربارهٔ خدمات پس از فروش", "تجربهٔ شما از تعمیر و گارانتی چطور بوده است؟"),
    ("groups", "معرفی اعضای تازه", "سلام! خودتان را معرفی کنید و بگویید از کدام شهر هستید."),
    ("phones", "انتقال اطلاعات به گوشی جدید", "بهترین روش انتقال مخاطبان و عکس‌ها از گوشی قدیمی چیست؟"),
    (
        "learning",
        "آموزش عکاسی با موبایل",
        "چند نکته برای عکس‌های بهتر در نور کم:\n\n1. لنز را تمیز کنید\n2. حالت شب را امتحان کنید",
    ),
    ("products", "کدام رنگ را انتخاب کنم؟", "بین رنگ آبی و مشکی مانده‌ام. شما کدام را پیشنهاد می‌کنید؟"),
    ("groups", "دورهمی اعضای تهران", "اگر موافق باشید یک دورهمی در تهران برگزار کنیم."),
    ("phones", "شارژر سریع یا معمولی؟", "شارژر سریع به باتری آسیب می‌زند؟"),
    ("learning", "راهنمای استفاده از کد معرفی", "کد معرفی خود را از صفحهٔ نمایه بردارید و برای دوستانتان بفرستید."),
]
EN_TOPICS = [
    (
        "laptops",
        "Laptop fan is loud after the update",
        "Since the last update my laptop fan runs all the time. Anyone else?",
    ),
    (
        "laptops",
        "Which docking station works best?",
        "Looking for a dock with two monitors and charging. Recommendations welcome.",
    ),
    (
        "guides",
        "Welcome! Start here",
        "New to the club? Read this first:\n\n- complete your profile\n- follow a forum\n- say hello",
    ),
    (
        "guides",
        "How do points and tiers work?",
        "Points come from taking part; tiers come from qualifying points over 12 months.",
    ),
    (
        "laptops",
        "Battery calibration tips",
        "Run it down once a month and charge to full. Here is what I do:\n\n```\npowercfg /batteryreport\n```",
    ),
    (
        "guides",
        "Formatting your posts",
        "You can use **bold**, _italic_, `code`, lists and quotes. Mention people with @Name.",
    ),
    (
        "laptops",
        "Warranty claim experience",
        "My screen died after 11 months; the repair took a week. Sharing the steps.",
    ),
    ("staff", "Moderation schedule for next week", "Please add your shifts below."),
    ("guides", "Tips for asking good questions", "Say what you tried, what you expected and what happened."),
    ("laptops", "Keyboard backlight not working", "The backlight stopped working after a driver update. Any fix?"),
    ("products", "Feature request: dark mode", "Would love a dark mode for the club pages. Who's with me?"),
    ("guides", "Keyboard shortcuts you should know", "Ctrl+K opens search in most apps; what are your favourites?"),
    ("laptops", "Upgrading RAM: worth it?", "Thinking of going from 8 to 16 GB. Is it worth it for office work?"),
    ("groups", "Members from Rasht?", "Anyone else from Rasht here? Let's share local shop tips."),
]
FA_REPLIES = [
    "من هم همین مشکل را داشتم؛ با به‌روزرسانی حل شد.",
    "ممنون از راهنمایی‌تان، امتحان کردم و جواب داد 🌷",
    "به نظر من بهتر است اول با پشتیبانی تماس بگیرید.",
    "تجربهٔ من کاملاً مثبت بود، سه روزه کارم را راه انداختند.",
    "این نکته خیلی کاربردی بود، سپاس!",
    "کسی می‌داند هزینه‌اش چقدر است؟",
    "من هفتهٔ پیش خریدم و راضی‌ام.",
    "لطفاً نتیجه را اینجا هم بنویسید تا بقیه استفاده کنند.",
]
EN_REPLIES = [
    "Same here. Restarting after the update fixed it for me.",
    "Thanks, this worked perfectly!",
    "I'd contact support first; they were quick for me.",
    "Great tip, bookmarking this thread.",
    "Does anyone know if this is covered by the warranty?",
    "I bought one last month and I'm happy with it.",
    "Please post an update when you find a fix.",
    "Here's what worked for me: `reset settings`, then pair again.",
]


def seed_forums() -> None:
    """Creates the demo forums once; safe to run again (it finds them and stops)."""
    if db.session.scalar(sa.select(Category.id).where(Category.name == CATEGORIES[0][1])):
        click.echo("forums: demo forums already present")
        return
    members = list(
        db.session.scalars(sa.select(Member).where(Member.email.like("%@bashgah.example")).order_by(Member.id))
    )
    if len(members) < 4:
        click.echo("forums: no demo members; run the accounts seeder first")
        return
    regular = [m for m in members if m.role == "member"] or members
    staff = [m for m in members if m.role in ("moderator", "admin")] or members
    rng = random.Random(1403)
    by_key: dict[str, Category] = {}
    for position, (key, name, description, icon, colour, parent, roles, tier) in enumerate(CATEGORIES):
        by_key[key] = services.create_category(
            actor=None,
            name=name,
            description=description,
            icon=icon,
            colour=colour,
            position=position,
            parent_id=by_key[parent].id if parent else None,
            allowed_roles=roles,
            min_tier=tier,
        )
    topics: list[Topic] = []
    for key, title, body in FA_TOPICS + EN_TOPICS:
        category = by_key[key]
        pool = staff if (category.allowed_roles or category.min_tier) else regular
        topics.append(services.create_topic(actor=rng.choice(pool), category=category, title=title, body=body))
    poll_topic = services.create_topic(
        actor=staff[0],
        category=by_key["products"],
        title="نظرسنجی: کدام ویژگی را زودتر بسازیم؟",
        body="رأی بدهید تا اولویت‌های نسخهٔ بعد را بدانیم.",
        poll={
            "question": "کدام ویژگی برای شما مهم‌تر است؟",
            "options": ["حالت تاریک", "اپلیکیشن موبایل", "جستجوی بهتر", "اعلان پیامکی"],
            "multiple": False,
            "closes_at": utcnow() + timedelta(days=14),
        },
    )
    for index, topic in enumerate(topics):
        persian = index < len(FA_TOPICS)
        replies = FA_REPLIES if persian else EN_REPLIES
        pool = staff if topic.category_id == by_key["staff"].id else regular
        count = 160 if index == 0 else rng.randint(3, 14)
        bulk_replies(
            topic,
            [m.id for m in pool],
            count,
            body=lambda i, replies=replies: replies[(i * 7 + len(replies)) % len(replies)],
        )
    # A few replies through the service, so the demo has mentions, quotes and notifications too.
    welcome = topics[len(FA_TOPICS) + 2]
    mentioned = regular[-1]
    services.reply(
        actor=regular[0],
        topic=welcome,
        body=f"Welcome everyone! @{'_'.join(mentioned.display_name.split())} has great tips in the guides.",
        quoted_post_id=welcome.first_post_id,
    )
    _likes(rng, topics, regular)
    poll = db.session.scalar(sa.select(Poll).where(Poll.topic_id == poll_topic.id))
    option_ids = list(db.session.scalars(sa.select(PollOption.id).where(PollOption.poll_id == poll.id)))
    for member in regular[:8]:
        polls.vote(actor=member, poll=poll, option_ids=[rng.choice(option_ids)])
    db.session.flush()
    search.reindex(["forum_topic", "forum_post"])
    click.echo(f"forums: {len(by_key)} categories and {len(topics) + 1} topics created")


def _likes(rng: random.Random, topics: list[Topic], members: list[Member]) -> None:
    posts = list(
        db.session.execute(
            sa.select(Post.id, Post.author_id)
            .where(Post.topic_id.in_([t.id for t in topics]))
            .order_by(Post.id)
            .limit(400)
        )
    )
    for post_id, author_id in rng.sample(posts, min(80, len(posts))):
        likers = rng.sample(members, min(len(members), rng.randint(1, 4)))
        for liker in likers:
            if liker.id != author_id:
                post = db.session.get(Post, post_id)
                if db.session.get(social.PostLike, (post_id, liker.id)) is None:
                    social.like_post(actor=liker, post=post)
