"""Generated forum text for the search benchmark: Zipf-distributed vocabularies of real word shapes.

Each language has a vocabulary of about 5,000 words ranked by frequency: function words first
(``و``, ``به``, ``the``, ``and``), then real content words of a customer club's forum, then their
inflected forms (Persian plurals with ``ها``/``های``, verbs with ``می``/``نمی``, comparatives;
English plurals, ``-ing``, ``-ed``), then words built from each language's syllables for the long
tail. A word of rank ``r`` is drawn with weight ``1 / (r + 2.7)``: the Zipf-Mandelbrot law of real
text, so the commonest content words appear in a few per cent of posts and most words are rare.

Post lengths follow a log-normal law (median about 35 words, a long tail to some hundreds), like
replies in a forum; titles have 3 to 9 words and no function words. Persian text is written the
ways members write it: a ZWNJ word is sometimes joined or spaced (``می‌خواهم``, ``میخواهم``,
``می خواهم``), and some posts use Arabic ``ي``/``ك``.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random

PERSIAN_FUNCTION = str.split(
    "و به از که در این را با است برای آن یک هم تا من شما اما یا اگر بعد خیلی چه روی هر دیگر ما"
)
PERSIAN_CONTENT = str.split(
    "گوشی باتری مشکل سلام ممنون امتیاز باشگاه پشتیبانی سفارش شارژ قیمت کیفیت جایزه تخفیف ارسال محصول "
    "حساب کاربری رمز عبور مسابقه آزمون عکس کارت هدیه فروشگاه گارانتی تعمیر کارشناس راهنما سرعت اینترنت "
    "مودم روتر صفحه نمایش دوربین صدا بلندگو هدفون ساعت هوشمند تجربه عالی ضعیف خوب سریع کند جدید قدیمی "
    "نرم‌افزار به‌روزرسانی تنظیمات راه‌حل پیشنهاد سوال جواب لطفا دوستان روز هفته ماه سال پول خرید "
    "شارژر کابل برنامه نسخه سیستم اپلیکیشن پیام تماس شماره ایمیل ثبت نام ورود خطا گزارش وضعیت "
    "پرداخت فاکتور بسته تحویل پست آدرس شهر تهران مشهد اصفهان شیراز تبریز کرج قرمز مشکی سفید "
    "لپ‌تاپ تبلت کیبورد ماوس مانیتور پرینتر حافظه رم پردازنده گرافیک بازی فیلم موسیقی کتاب "
    "مدرسه دانشگاه کار خانه ماشین سفر هتل بلیت غذا رستوران قهوه چای ورزش فوتبال"
)
PERSIAN_VERBS = str.split("خواهم دانم کنم شود دهم گیرم روم آیم بینم گویم خرم فرستم زنم نویسم خوانم گذارم")
PERSIAN_SYLLABLES = str.split(
    "با ده را سا نو مه کا پی تو زی شی فر گل دا رو نا بر سر کو مو لا پا جا خا وا هی ری سی دی نی"
    " ار اس ان ام ین ور یر ست ند رد شت فت خت زد"
)
ENGLISH_FUNCTION = str.split("the and to a of is it for i in my you that with on this have but not be are")
ENGLISH_CONTENT = str.split(
    "phone battery problem hello thanks points club support order charge price quality reward discount "
    "shipping product account password contest quiz photo gift card store warranty repair expert guide "
    "speed internet modem router screen display camera sound speaker headphones watch smart experience "
    "great poor good fast slow new old software update settings solution suggestion question answer "
    "please friends day week month year money buy charger cable app version system message call number "
    "email register login error report status payment invoice package delivery post address city red "
    "black white laptop tablet keyboard mouse monitor printer memory processor graphics game movie music "
    "book school university work home car travel hotel ticket food restaurant coffee tea sport football "
    "loyalty member expire running pairing restart bluetooth wifi signal firmware backup storage cloud"
)
ENGLISH_SYLLABLES = str.split(
    "ka ro mi ta ne lo ve ri sa do pe lu fi ga mo te ba ni co de la vi ra to pa ma si nu ke zo "
    "ber ton lin dor mar sen vel tar gon rix"
)

# Words placed at fixed ranks, so that the queries below have known frequencies whatever the seed.
MEDIUM_RANK = 400
RARE_RANK = 3000
PERSIAN_MEDIUM = ["پیامک", "ضمانت", "فلش"]
PERSIAN_RARE = ["کالیبره", "مادربرد", "شمارنده"]
ENGLISH_MEDIUM = ["voucher", "calibrate", "refund"]
ENGLISH_RARE = ["motherboard", "thermostat", "odometer"]

VOCABULARY_SIZE = 5000
ZIPF_SHIFT = 2.7


def _fill(rng: random.Random, seed_words: list[str], syllables: list[str], persian: bool) -> list[str]:
    """The long tail: inflected forms of the seed words, then syllable-built words."""
    tail: list[str] = []
    for word in seed_words:
        if persian:
            tail += [f"{word}\u200cها", f"{word}\u200cهای", f"{word}ی", f"{word}\u200cتر", f"{word}\u200cترین"]
        else:
            tail += [f"{word}s", f"{word}ing", f"{word}ed", f"{word}er"]
    if persian:
        for verb in PERSIAN_VERBS:
            tail += [f"می\u200c{verb}", f"نمی\u200c{verb}", f"{verb}د", f"می\u200c{verb}د"]
    seen = set(tail)
    while len(tail) < VOCABULARY_SIZE * 2:
        word = "".join(rng.choice(syllables) for _ in range(rng.choice((2, 2, 3, 3, 4))))
        if word not in seen:
            seen.add(word)
            tail.append(word)
    rng.shuffle(tail)
    return tail


def vocabulary(persian: bool) -> list[str]:
    """About 5,000 words by rank (the same list for the same language, every run)."""
    rng = random.Random(17 if persian else 23)
    function = PERSIAN_FUNCTION if persian else ENGLISH_FUNCTION
    content = list(PERSIAN_CONTENT if persian else ENGLISH_CONTENT)
    if persian:
        content[3:3] = [f"می\u200c{v}" for v in PERSIAN_VERBS[:4]] + [f"نمی\u200c{v}" for v in PERSIAN_VERBS[:2]]
    medium = PERSIAN_MEDIUM if persian else ENGLISH_MEDIUM
    rare = PERSIAN_RARE if persian else ENGLISH_RARE
    tail = _fill(rng, content, PERSIAN_SYLLABLES if persian else ENGLISH_SYLLABLES, persian)
    fixed = set(function) | set(content) | set(medium) | set(rare)
    words = function + content + [w for w in tail if w not in fixed]
    words = words[: VOCABULARY_SIZE - len(medium) - len(rare)]
    for i, word in enumerate(medium):
        words.insert(MEDIUM_RANK + i * 10, word)
    for i, word in enumerate(rare):
        words.insert(RARE_RANK + i * 100, word)
    return words


class Writer:
    """Draws titles and bodies for one language."""

    def __init__(self, persian: bool, rng: random.Random) -> None:
        self.persian = persian
        self.rng = rng
        self.words = vocabulary(persian)
        self.cumulative = list(itertools.accumulate(1.0 / (r + ZIPF_SHIFT) for r in range(len(self.words))))
        function = PERSIAN_FUNCTION if persian else ENGLISH_FUNCTION
        self.content_offset = len(function)
        self.content_cumulative = list(
            itertools.accumulate(1.0 / (r + ZIPF_SHIFT) for r in range(len(self.words) - self.content_offset))
        )

    def _draw(self, cumulative: list[float], offset: int) -> str:
        index = bisect.bisect(cumulative, self.rng.random() * cumulative[-1])
        return self._spell(self.words[offset + min(index, len(cumulative) - 1)])

    def _spell(self, word: str) -> str:
        if not self.persian:
            return word
        roll = self.rng.random()
        if "\u200c" in word and roll < 0.25:
            word = word.replace("\u200c", "" if roll < 0.15 else " ")
        if self.rng.random() < 0.03:
            word = word.replace("ی", "ي").replace("ک", "ك")
        return word

    def title(self) -> str:
        return " ".join(self._draw(self.content_cumulative, self.content_offset) for _ in range(self.rng.randint(3, 9)))

    def body(self) -> str:
        length = max(3, min(1500, int(self.rng.lognormvariate(math.log(35), 0.9))))
        words = [self._draw(self.cumulative, 0) for _ in range(length)]
        if self.rng.random() < 0.15:
            words.insert(self.rng.randrange(len(words) + 1), str(self.rng.randrange(2000)))
        return " ".join(words)


# Query classes: (class, query). "common" words match a few per cent of the posts, "stop" a
# function word that matches most of them; variant spellings must find the canonical forms.
QUERIES: list[tuple[str, str]] = [
    ("stop", "the"),
    ("stop", "از"),
    ("common-1", "گوشی"),
    ("common-1", "باتری"),
    ("common-1", "phone"),
    ("common-1", "battery"),
    ("common-2", "گوشی باتری"),
    ("common-2", "phone battery"),
    ("common-3", "امتیاز جایزه تخفیف"),
    ("common-3", "points reward discount"),
    ("medium-1", "ضمانت"),
    ("medium-1", "voucher"),
    ("medium-2", "پیامک فلش"),
    ("medium-2", "refund charger"),
    ("mixed-2", "calibrate battery"),
    ("mixed-3", "گوشی ضمانت تعمیر"),
    ("rare-1", "مادربرد"),
    ("rare-1", "thermostat"),
    ("rare-2", "motherboard repair"),
    ("rare-2", "کالیبره باتری"),
    ("variant", "مي‌خواهم"),  # Arabic yeh: folds to the Persian form
    ("variant", "نمی دانم"),  # a space where most posts have a ZWNJ
    ("variant", "كارت هديه"),  # Arabic kaf and yeh
    ("variant", "نرم افزار"),  # spaced compound
    ("variant", "router ۱۲۳"),  # Persian digits fold to ASCII
    ("none", "zzzz nothing matches"),
]
