"""The composition root: ``create_app`` wires every package, CLI group, event subscriber and socket."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask_babel import lazy_gettext as _l

from gamification.contests import cli as contest_cli
from gamification.contests import demo as contest_demo
from gamification.contests import views as contest_views
from gamification.quizzes import cli as quiz_cli
from gamification.quizzes import demo as quiz_demo
from gamification.quizzes import sockets as quiz_sockets
from gamification.quizzes import views as quiz_views
from portal import errors, i18n, jobs, security
from portal.accounts import demo as accounts_demo
from portal.accounts import views as accounts_views
from portal.accounts.cli import user as user_cli
from portal.accounts.queries import count_members
from portal.admin import views as admin_views
from portal.config import ROOT, Config, load_config
from portal.events import bus
from portal.extensions import babel, csrf, db, limiter, login_manager, migrate, socketio  # noqa: F401
from portal.home import views as home_views
from portal.notifications import sockets as notification_sockets
from portal.notifications import subscribers as notification_subscribers
from portal.notifications import views as notification_views

BLUEPRINTS = [home_views.bp, accounts_views.bp, notification_views.bp, admin_views.bp, contest_views.bp, quiz_views.bp]

# Seeders of the demo club, in order; each is idempotent.
DEMO_SEEDERS = [accounts_demo.seed_accounts, contest_demo.seed_contests, quiz_demo.seed_quizzes]


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
        async_mode="threading",
        cors_allowed_origins=[],
        manage_session=False,
    )

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    _wire_events()
    notification_sockets.register()
    quiz_sockets.register()
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


def _register_cli(app: Flask) -> None:
    portal_cli = click.Group("portal", help="Bashgah administration commands.")
    portal_cli.add_command(user_cli)
    portal_cli.add_command(contest_cli.contests)
    portal_cli.add_command(quiz_cli.quizzes)

    @portal_cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Only seed when the database has no members yet.")
    def seed_demo(if_empty: bool) -> None:
        """Load the demo club (people, and every feature's demo content)."""
        if if_empty and count_members() > 0:
            click.echo("demo: the database already has members; nothing loaded")
            return
        for seeder in DEMO_SEEDERS:
            seeder()
            db.session.commit()
        click.echo("demo: done")

    app.cli.add_command(portal_cli)
