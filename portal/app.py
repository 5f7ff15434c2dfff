"""The composition root: ``create_app`` wires every package, CLI group, event subscriber and socket."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask_babel import lazy_gettext as _l

from forums import cli as forums_cli
from forums import demo as forums_demo
from forums import digest as forums_digest
from forums import live as forums_live
from forums import moderation as forums_moderation
from forums import pagecache as forums_pagecache
from forums import search_source as forums_search
from forums import sockets as forums_sockets
from forums import views as forums_views
from gamification.contests import cli as contest_cli
from gamification.contests import demo as contest_demo
from gamification.contests import jobs as contest_jobs
from gamification.contests import moderation as contest_moderation
from gamification.contests import policies as contest_policies
from gamification.contests import views as contest_views
from gamification.engine import api as engine_api  # noqa: F401 - declares the engine's /api/v1 endpoints
from gamification.engine import cli as engine_cli
from gamification.engine import demo as engine_demo
from gamification.engine import queries as engine_queries
from gamification.engine import services as engine_services
from gamification.engine import tasks as engine_tasks
from gamification.engine import totals as engine_totals
from gamification.engine import views as engine_views
from gamification.quizzes import cli as quiz_cli
from gamification.quizzes import demo as quiz_demo
from gamification.quizzes import jobs as quiz_jobs
from gamification.quizzes import sockets as quiz_sockets
from gamification.quizzes import views as quiz_views
from knowledge import demo as knowledge_demo
from knowledge.kb import search as kb_search
from knowledge.kb import views as kb_views
from knowledge.tickets import api as ticket_api  # noqa: F401 - declares the /api/v1/tickets endpoints
from knowledge.tickets import desk_views as ticket_desk_views
from knowledge.tickets import jobs as ticket_jobs
from knowledge.tickets import views as ticket_views
from knowledge.tickets.cli import tickets as tickets_cli
from portal import errors, i18n, jobs, search, security
from portal.accounts import demo as accounts_demo
from portal.accounts import views as accounts_views
from portal.accounts.cli import user as user_cli
from portal.accounts.queries import count_members
from portal.admin import views as admin_views
from portal.admin.segments import demo as segments_demo
from portal.admin.segments import queries as segment_queries
from portal.admin.segments import registry as segments_registry
from portal.admin.segments import views as segments_views
from portal.api import api as api_endpoints  # noqa: F401 - declares the /api/v1 endpoints on the toolkit's blueprint
from portal.api import toolkit as api_toolkit
from portal.api import views as api_views
from portal.api import webhooks as api_webhooks
from portal.api.cli import api_key as api_key_cli
from portal.api.cli import webhooks_cli
from portal.config import ROOT, Config, load_config
from portal.events import bus
from portal.extensions import babel, csrf, db, limiter, login_manager, migrate, socketio  # noqa: F401
from portal.home import search_views
from portal.home import views as home_views
from portal.moderation import demo as moderation_demo
from portal.moderation import notices as moderation_notices
from portal.moderation import registry as moderation_registry
from portal.moderation import settings as moderation_settings
from portal.moderation import subscribers as moderation_subscribers
from portal.moderation import views as moderation_views
from portal.moderation.cli import moderation as moderation_cli
from portal.moderation.members import member_adapter
from portal.moderation.services import trust as moderation_trust
from portal.notifications import kinds as notification_kinds
from portal.notifications import sockets as notification_sockets
from portal.notifications import subscribers as notification_subscribers
from portal.notifications import views as notification_views

BLUEPRINTS = [
    home_views.bp,
    accounts_views.bp,
    notification_views.bp,
    admin_views.bp,
    segments_views.bp,
    forums_views.bp,
    search_views.bp,
    engine_views.bp,
    api_toolkit.bp,
    api_views.bp,
    moderation_views.bp,
    kb_views.bp,
    ticket_views.bp,
    ticket_desk_views.bp,
    contest_views.bp,
    quiz_views.bp,
]

# Seeders of the demo club, in order; each is idempotent.
DEMO_SEEDERS = [
    accounts_demo.seed_accounts,
    engine_demo.seed_engine,
    forums_demo.seed_forums,
    moderation_demo.seed_moderation,
    knowledge_demo.seed_knowledge,
    contest_demo.seed_contests,
    quiz_demo.seed_quizzes,
    segments_demo.seed_segments,
]

# Moderatable content: one adapter per kind, from each content package's moderation.py.
MODERATION_ADAPTERS: list[Any] = [member_adapter, *forums_moderation.ADAPTERS, *contest_moderation.ADAPTERS]


def create_app(config: type[Config] | str | dict[str, Any] | None = None) -> Flask:
    """Builds the application. ``config`` is a config class, its name, or a dict of overrides."""
    overrides = config if isinstance(config, dict) else None
    base = None if isinstance(config, dict) else config
    if overrides and "ENV_NAME" in overrides and base is None:
        base = overrides["ENV_NAME"]
    settings = load_config(base, overrides)

    app = Flask(
        __name__,
        root_path=str(ROOT / "portal"),
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(settings)
    _prepare_instance(app)
    logging.basicConfig(level=logging.INFO)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    # Before CSRF: its check (and the body-size check it triggers) runs as a before_request hook,
    # and the ?lang= choice must be known by then so that the error page is in that language.
    i18n.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    errors.init_app(app)
    security.init_app(app)
    jobs.init_app(app)
    socketio.init_app(
        app,
        message_queue=app.config["REDIS_URL"] or None,
        channel=app.config["SOCKETIO_CHANNEL"],
        async_mode="threading",
        cors_allowed_origins=[],
        manage_session=False,
    )

    # Outermost: cookieless visitors' cached forum pages are answered before the rest of the stack.
    app.wsgi_app = forums_pagecache.CookielessPages(app, app.wsgi_app)  # type: ignore[method-assign]

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    _wire_events()
    _register_moderation()
    notification_sockets.register()
    forums_sockets.register()
    for source in forums_search.SOURCES:
        search.register_source(source)
    search.register_source(kb_search.SOURCE)
    quiz_sockets.register()
    _schedule_jobs(app)
    api_toolkit.clear_member_fields()
    api_toolkit.register_member_fields(engine_queries.standing_fields)  # points, tier and badges in /api/v1
    # tier, points and purchase criteria of member segments
    segments_registry.register_engine(
        conditions=engine_queries.segment_conditions, tier_choices=engine_queries.tier_choices
    )
    contest_policies.register_audience(segment_queries.contains, segment_queries.choices)  # who may enter and vote
    _register_cli(app)
    return app


def _prepare_instance(app: Flask) -> None:
    for key in ("UPLOADS_ROOT", "MAIL_FILE_DIR", "SMS_FILE_DIR", "SEARCH_INDEX_DIR"):
        Path(app.config[key]).mkdir(parents=True, exist_ok=True)
    if app.config["DATABASE_URL"].startswith("sqlite:///"):
        Path(app.config["DATABASE_URL"].removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def _wire_events() -> None:
    """Every in-transaction subscriber and after-commit effect, in one place."""
    bus.clear()
    for pattern, handler in notification_subscribers.SUBSCRIPTIONS.items():
        bus.subscribe(pattern, handler)
    for pattern, handler in forums_live.EFFECTS.items():
        bus.add_effect(pattern, handler, external=False)  # pushes of forum objects: never an outside event
    # Moderation's gates (allowances, sanctions, word filter) run first: a refusal stops the rest.
    for pattern, handler in moderation_subscribers.SUBSCRIPTIONS.items():
        bus.subscribe(pattern, handler)
    bus.subscribe("*", engine_services.on_event)  # the points engine pays for every domain event
    bus.subscribe("*", api_webhooks.on_event)
    # After the engine: a held item is held once its creation is paid, so its removal reverses that.
    for pattern, handler in moderation_subscribers.LATE_SUBSCRIPTIONS.items():
        bus.subscribe(pattern, handler)


def _schedule_jobs(app: Flask) -> None:
    """The periodic jobs, each claimed once per interval across processes (see portal/jobs.py)."""
    every = {
        engine_tasks.release_pending_points: timedelta(hours=1),
        engine_tasks.warn_expiring_points: timedelta(days=1),
        engine_tasks.expire_points: timedelta(days=1),
        engine_tasks.nightly_tiers: timedelta(days=1),
        engine_tasks.prune_cap_counters: timedelta(days=1),
        engine_totals.settle_pending_totals: timedelta(minutes=1),
        forums_digest.digest_job: timedelta(hours=1),
        api_webhooks.retry_due_deliveries: timedelta(minutes=1),
        moderation_trust.recompute_trust_levels: timedelta(days=1),
        ticket_jobs.check_sla: timedelta(minutes=5),
        ticket_jobs.close_resolved_tickets: timedelta(hours=1),
        contest_jobs.close_due_contests: timedelta(minutes=5),
        quiz_jobs.finish_expired_attempts: timedelta(minutes=5),
    }
    for job, interval in every.items():
        jobs.schedule(job, every=interval, app=app)


def _register_moderation() -> None:
    """Content kinds moderation can act on, and how its notifications read."""
    moderation_registry.clear()
    for adapter in MODERATION_ADAPTERS:
        moderation_registry.register(adapter)
    for kind, render in moderation_notices.KINDS.items():
        notification_kinds.register_kind(kind, render)


def _register_cli(app: Flask) -> None:
    portal_cli = click.Group("portal", help="Bashgah administration commands.")
    portal_cli.add_command(user_cli)
    portal_cli.add_command(jobs.jobs_cli)
    portal_cli.add_command(forums_cli.forums_cli)
    portal_cli.add_command(search.search_cli)
    portal_cli.add_command(engine_cli.points)
    portal_cli.add_command(api_key_cli)
    portal_cli.add_command(webhooks_cli)
    portal_cli.add_command(moderation_cli)
    portal_cli.add_command(tickets_cli)
    portal_cli.add_command(contest_cli.contests)
    portal_cli.add_command(quiz_cli.quizzes)

    @portal_cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Only seed when the database has no members yet.")
    def seed_demo(if_empty: bool) -> None:
        """Load the demo club (people, and every feature's demo content)."""
        if if_empty and count_members() > 0:
            click.echo("demo: the database already has members; nothing loaded")
            return
        # The demo's history is written at once by brand-new accounts: moderation's holds and
        # daily allowances are for live members, not for loading the club's past.
        with moderation_settings.gates_lifted(app):
            for seeder in DEMO_SEEDERS:
                seeder()
                db.session.commit()
        click.echo("demo: done")

    app.cli.add_command(portal_cli)
