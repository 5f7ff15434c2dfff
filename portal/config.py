"""Configuration: class defaults overridden by ``PORTAL_*`` environment variables."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"


def _env_value(raw: str, default: Any) -> Any:
    """Converts an environment string to the type of the default it replaces."""
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, timedelta):
        return timedelta(seconds=int(raw))
    if isinstance(default, (list, tuple)):
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw


class Config:
    """Development defaults: everything works with nothing set."""

    ENV_NAME = "development"
    SECRET_KEY = "dev-only-secret-key-change-me"  # noqa: S105 - development default; production refuses it
    # Settings that are read from PORTAL_<NAME>; the Flask/extension key may differ.
    DATABASE_URL = f"sqlite:///{INSTANCE / 'portal.db'}"
    REDIS_URL = ""
    # The Redis pub/sub channel of the Socket.IO message queue. Channels are shared by every
    # database number, so two clubs (or test runs) on one Redis need different names.
    SOCKETIO_CHANNEL = "flask-socketio"
    DEFAULT_LANGUAGE = "fa"
    LANGUAGES = ["fa", "en"]
    TIMEZONE = "Asia/Tehran"
    SITE_NAME = "Bashgah"
    BASE_URL = "http://127.0.0.1:5000"
    MAIL_BACKEND = "console"  # console | file | smtp
    MAIL_FILE_DIR = str(INSTANCE / "mail")
    MAIL_FROM = "Bashgah <no-reply@bashgah.example>"
    SMTP_HOST = "localhost"
    SMTP_PORT = 25
    SMTP_USERNAME = ""
    SMTP_PASSWORD = ""
    SMTP_STARTTLS = False
    SMS_BACKEND = "console"  # console | file
    SMS_FILE_DIR = str(INSTANCE / "sms")
    UPLOADS_ROOT = str(INSTANCE / "uploads")
    SEARCH_BACKEND = "whoosh"  # whoosh | postgres
    SEARCH_INDEX_DIR = str(INSTANCE / "search")
    JOBS_BACKEND = "thread"  # thread | eager | celery
    JOBS_THREADS = 4
    RUN_SCHEDULER = True  # the serving process runs periodic jobs (thread backend)
    SCHEDULER_TICK_SECONDS = 30
    MAX_UPLOAD_BYTES = 5 * 1024 * 1024
    MAX_IMAGE_PIXELS = 24_000_000
    MAX_REQUEST_BYTES = 16 * 1024 * 1024
    SESSION_COOKIE_SECURE = False
    LOGIN_RATE_LIMIT = "10 per minute;50 per hour"
    SIGNUP_RATE_LIMIT = "5 per minute;20 per hour"
    RESET_RATE_LIMIT = "5 per minute;20 per hour"
    VERIFY_TOKEN_MAX_AGE = 3 * 24 * 3600
    RESET_TOKEN_MAX_AGE = 2 * 3600
    REMEMBER_DAYS = 30
    FORUM_PAGE_SIZE = 20
    FORUM_TOPICS_PER_PAGE = 30
    FORUM_MAX_POST_CHARS = 20_000
    FORUM_DELETE_WINDOW_MINUTES = 30
    FORUM_VIEW_FLUSH_SECONDS = 5  # topic views add up in the process and are written this often
    PROFILE_FIELDS_FOR_COMPLETION = ["avatar", "bio", "city", "job_title", "organisation", "phone"]
    # The points engine (gamification.engine).
    POINTS_RETURN_WINDOW_DAYS = 14  # purchase points stay pending this long
    POINTS_DAILY_COMMUNITY_CAP = 500  # most points a member earns a day from community actions; 0 = no cap
    POINTS_EXPIRY_WARNING_DAYS = 7
    TIER_WINDOW_DAYS = 365  # qualifying points count this long
    TIER_GRACE_DAYS = 14
    REFERRAL_ACTIVATION = ["verified", "first_post"]
    REFERRAL_SAME_IP_HOURS = 24
    PROFILE_COMPLETION_LEVEL = 100
    API_RATE_LIMIT = "600 per minute"  # per API key (or session member), shared by every endpoint
    API_MAX_BODY_BYTES = 2 * 1024 * 1024
    WEBHOOK_TIMEOUT = 5  # seconds per delivery try
    WEBHOOK_MAX_ATTEMPTS = 8  # tries before a delivery is marked failed
    WEBHOOK_RETRY_BASE_SECONDS = 30  # back-off: 30 s, 1 min, 2 min, 4 min, ...
    WEBHOOK_CACHE_SECONDS = 10  # how long a process trusts its cached list of subscribed events
    # Help desk: business week for SLA clocks (in TIMEZONE), reopen window, breach warning, tracking rate.
    SUPPORT_WEEK = "sat-wed 08:00-17:00; thu 08:00-12:00"
    SUPPORT_REOPEN_DAYS = 7
    SUPPORT_SLA_WARNING_MINUTES = 60
    TICKET_TRACK_RATE_LIMIT = "10 per minute;30 per hour"


class TestConfig(Config):
    """Used by the test suite: eager jobs, file mail, no secure cookies."""

    ENV_NAME = "testing"
    TESTING = True
    JOBS_BACKEND = "eager"
    RUN_SCHEDULER = False
    MAIL_BACKEND = "file"
    SMS_BACKEND = "file"
    # One process: local changes keep the webhook cache exact, so it never needs to expire mid-test.
    WEBHOOK_CACHE_SECONDS = 24 * 3600


class ProductionConfig(Config):
    """Refuses to start without a real secret key; secure cookies."""

    ENV_NAME = "production"
    SECRET_KEY = ""
    SESSION_COOKIE_SECURE = True
    MAIL_BACKEND = "smtp"


CONFIGS = {"development": Config, "testing": TestConfig, "production": ProductionConfig}


def load_config(base: type[Config] | str | None = None, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Builds the settings dict: class defaults, then ``PORTAL_*`` env, then explicit overrides."""
    if base is None or isinstance(base, str):
        base = CONFIGS[base or os.environ.get("PORTAL_ENV", "development")]
    settings = {key: getattr(base, key) for key in dir(base) if key.isupper()}
    for key, default in list(settings.items()):
        raw = os.environ.get(f"PORTAL_{key}")
        if raw is not None:
            settings[key] = _env_value(raw, default)
    settings.update(overrides or {})
    if settings["ENV_NAME"] == "production" and not settings["SECRET_KEY"]:
        raise RuntimeError("PORTAL_SECRET_KEY must be set in production")
    # Map portal settings onto the keys the extensions read.
    settings.setdefault("SQLALCHEMY_DATABASE_URI", settings["DATABASE_URL"])
    settings["SQLALCHEMY_DATABASE_URI"] = settings["DATABASE_URL"]
    settings["MAX_CONTENT_LENGTH"] = settings["MAX_REQUEST_BYTES"]
    settings["BABEL_DEFAULT_LOCALE"] = settings["DEFAULT_LANGUAGE"]
    settings["BABEL_DEFAULT_TIMEZONE"] = "UTC"
    settings["BABEL_TRANSLATION_DIRECTORIES"] = str(ROOT / "portal" / "translations")
    settings["SESSION_COOKIE_HTTPONLY"] = True
    settings["SESSION_COOKIE_SAMESITE"] = "Lax"
    settings["REMEMBER_COOKIE_HTTPONLY"] = True
    settings["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    settings["REMEMBER_COOKIE_SECURE"] = settings["SESSION_COOKIE_SECURE"]
    settings["REMEMBER_COOKIE_DURATION"] = timedelta(days=settings["REMEMBER_DAYS"])
    settings["WTF_CSRF_TIME_LIMIT"] = None
    settings["RATELIMIT_STORAGE_URI"] = (
        settings["REDIS_URL"] if settings["REDIS_URL"] and settings["ENV_NAME"] != "testing" else "memory://"
    )
    settings["RATELIMIT_HEADERS_ENABLED"] = True
    settings["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(settings["DATABASE_URL"])
    return settings


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 15, "check_same_thread": False}}
    return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20}
