"""Knowledge base pages: the index, categories, articles (with votes and translations) and the editors' pages."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from knowledge.kb import policies, queries, services
from knowledge.kb.forms import ArticleForm, CategoryForm
from knowledge.kb.models import KbArticle
from portal.accounts.access import role_required
from portal.db import InvalidCursor, db
from portal.errors import DomainError
from portal.i18n import current_language
from portal.sanitize import render_markdown

bp = Blueprint("kb", __name__, url_prefix="/kb")
VISITOR_KEY = "kb_visitor"


def visitor_key() -> str:
    """A random key in the visitor's session, so a guest votes once per article."""
    if VISITOR_KEY not in session:
        session[VISITOR_KEY] = secrets.token_hex(16)
    return session[VISITOR_KEY]


@bp.get("/")
def index() -> Any:
    language = current_language()
    query = request.args.get("q", "").strip()[:200]
    results = queries.suggest(query, language, limit=20) if query else None
    return render_template(
        "knowledge/kb/index.html",
        shelves=queries.categories_with_articles(language),
        language=language,
        query=query,
        results=results,
    )


@bp.get("/c/<slug>")
def category(slug: str) -> Any:
    found = queries.category_by_slug(slug)
    if found is None:
        abort(404)
    try:
        page = queries.category_articles(found.id, current_language(), request.args.get("cursor"))
    except InvalidCursor:
        return redirect(url_for("kb.category", slug=slug))
    return render_template("knowledge/kb/category.html", category=found, page=page, language=current_language())


@bp.get("/a/<int:article_id>")
@bp.get("/a/<int:article_id>/<path:slug>")
def article(article_id: int, slug: str | None = None) -> Any:
    found = queries.article_with_category(article_id)
    if found is None or not policies.can_read(current_user, found):
        abort(404)
    if found.is_published:
        services.record_view(found.id)
        db.session.commit()
    member_id = current_user.id if current_user.is_authenticated else None
    vote = queries.existing_vote(found.id, member_id=member_id, visitor_key=session.get(VISITOR_KEY))
    return render_template(
        "knowledge/kb/article.html",
        article=found,
        body_html=render_markdown(found.body),
        translations=queries.translations(found),
        related=queries.related(found),
        vote=vote,
        can_edit=policies.can_edit_kb(current_user),
        language=current_language(),
    )


@bp.post("/a/<int:article_id>/vote")
def vote(article_id: int) -> Any:
    found = db.session.get(KbArticle, article_id)
    if found is None or not found.is_published:
        abort(404)
    answer = request.form.get("helpful")
    if answer not in {"yes", "no"}:
        abort(400)
    member_id = current_user.id if current_user.is_authenticated else None
    try:
        services.vote(article=found, helpful=answer == "yes", member_id=member_id, visitor_key=visitor_key())
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "info")
    else:
        db.session.commit()
        flash(_("Thank you for your answer!"), "success")
    return redirect(url_for("kb.article", article_id=article_id) + "#helpful", code=303)


# --- editors -----------------------------------------------------------------------------------------


@bp.get("/manage")
@role_required(*policies.EDITOR_ROLES)
def manage() -> Any:
    try:
        page = queries.editor_listing(request.args.get("cursor"))
    except InvalidCursor:
        return redirect(url_for("kb.manage"))
    return render_template("knowledge/kb/manage.html", page=page, language=current_language())


def _article_form(formdata: Any = None, article: KbArticle | None = None) -> ArticleForm:
    form = ArticleForm(formdata=formdata, obj=article if formdata is None else None)
    language = current_language()
    form.category_id.choices = [SelectChoice(i, name) for i, name in queries.category_choices(language)]
    target = (form.language.data if formdata is not None else None) or language
    form.translation_of_id.choices = [
        SelectChoice(0, _("None (an original article)")),
        *(SelectChoice(i, title) for i, title in queries.originals_for_translation(target)),
    ]
    if formdata is None and article is None:
        form.language.data = language
        form.translation_of_id.data = int(request.args.get("translation_of", 0) or 0)
        if form.translation_of_id.data:
            form.language.data = request.args.get("language", language)
            form.translation_of_id.choices = [
                SelectChoice(0, _("None (an original article)")),
                *(SelectChoice(i, t) for i, t in queries.originals_for_translation(form.language.data)),
            ]
    return form


def _form_error(form: Any, exc: DomainError) -> None:
    for name in exc.fields:
        if hasattr(form, name):
            getattr(form, name).errors = [*getattr(form, name).errors, str(exc.message)]
            return
    flash(str(exc.message), "danger")


@bp.route("/manage/new", methods=["GET", "POST"])
@role_required(*policies.EDITOR_ROLES)
def new_article() -> Any:
    form = _article_form(request.form if request.method == "POST" else None)
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                created = services.create_article(
                    actor=current_user,
                    category_id=form.category_id.data,
                    language=form.language.data,
                    title=form.title.data,
                    body=form.body.data,
                    translation_of_id=form.translation_of_id.data or None,
                )
            except DomainError as exc:
                db.session.rollback()
                _form_error(form, exc)
            else:
                db.session.commit()
                flash(_("The draft has been saved."), "success")
                return redirect(url_for("kb.edit_article", article_id=created.id), code=303)
        return render_template("knowledge/kb/edit.html", form=form, article=None), 422
    return render_template("knowledge/kb/edit.html", form=form, article=None)


@bp.route("/manage/<int:article_id>/edit", methods=["GET", "POST"])
@role_required(*policies.EDITOR_ROLES)
def edit_article(article_id: int) -> Any:
    found = queries.article_with_category(article_id)
    if found is None:
        abort(404)
    form = _article_form(request.form if request.method == "POST" else None, found)
    # The language and translation link are fixed once an article exists.
    form.language.data = found.language
    form.translation_of_id.choices = [SelectChoice(found.translation_of_id or 0, "—")]
    form.translation_of_id.data = found.translation_of_id or 0
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.update_article(
                    actor=current_user,
                    article=found,
                    title=form.title.data,
                    body=form.body.data,
                    category_id=form.category_id.data,
                    note=form.note.data,
                )
            except DomainError as exc:
                db.session.rollback()
                _form_error(form, exc)
            else:
                db.session.commit()
                flash(_("The article has been saved."), "success")
                return redirect(url_for("kb.edit_article", article_id=found.id), code=303)
        status = 422
    else:
        status = 200
    return render_template(
        "knowledge/kb/edit.html",
        form=form,
        article=found,
        revisions=queries.revisions(found.id),
        translations=queries.translations(found, published_only=False),
    ), status


@bp.post("/manage/<int:article_id>/publish")
@role_required(*policies.EDITOR_ROLES)
def publish(article_id: int) -> Any:
    found = db.session.get(KbArticle, article_id)
    if found is None:
        abort(404)
    if request.form.get("action") == "unpublish":
        services.unpublish_article(actor=current_user, article=found)
        message = _("The article is a draft again.")
    else:
        services.publish_article(actor=current_user, article=found)
        message = _("The article is published.")
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("kb.edit_article", article_id=article_id), code=303)


@bp.route("/manage/categories", methods=["GET", "POST"])
@role_required(*policies.EDITOR_ROLES)
def categories() -> Any:
    form = CategoryForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.create_category(
                    actor=current_user,
                    slug=form.slug.data,
                    name_fa=form.name_fa.data,
                    name_en=form.name_en.data,
                    position=form.position.data or 0,
                )
            except DomainError as exc:
                db.session.rollback()
                _form_error(form, exc)
            else:
                db.session.commit()
                flash(_("The category has been created."), "success")
                return redirect(url_for("kb.categories"), code=303)
        status = 422
    return render_template(
        "knowledge/kb/categories.html", form=form, categories=queries.categories(), language=current_language()
    ), status
