"""Forum pages: the category index, topic lists, the topic page, posting, editing, likes, polls, moderation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from forums import content, pagecache, policies, polls, queries, services, social
from forums.forms import CategoryForm, DigestForm, EditForm, ReasonForm, ReplyForm, TopicForm
from forums.models import Category, Poll, Post, PostStatus, Topic
from gamification.engine.queries import tier_choices
from portal.db import InvalidCursor, db, utcnow
from portal.errors import DomainError, NotAllowed, NotFound, ValidationFailed

bp = Blueprint("forums", __name__, url_prefix="/forums")


def _viewer() -> queries.Viewer:
    return queries.Viewer(current_user)


def _form_error(form: Any, exc: DomainError) -> None:
    """Shows a service's refusal next to the field it concerns, or at the top of the form."""
    for name in exc.fields:
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, str(exc.message)]
            return
    flash(str(exc.message), "danger")


def _topic_or_404(topic_id: int) -> Topic:
    topic = queries.topic_with_category(topic_id)
    if topic is None or not policies.can_see_topic(current_user, topic):
        raise NotFound(_("This topic does not exist or was removed."))
    access = _viewer().access(topic.category)
    if not access.allowed:
        raise NotAllowed(access.reason)
    return topic


def _post_or_404(post_id: int) -> Post:
    post = queries.post_with_author(post_id)
    if post is None or (not post.is_visible and not policies.is_moderator(current_user)):
        raise NotFound(_("This post does not exist or was removed."))
    return post


def _upload(form: Any) -> Any:
    data = form.image.data
    if data is None or not getattr(data, "filename", ""):
        return None
    return data.stream


def _commit_keeping_loaded() -> None:
    """Commits the page's small writes (view count, read position) without expiring what the page
    already loaded: otherwise rendering would reload every post one query at a time."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


# --- reading ------------------------------------------------------------------------------------------------


@bp.get("/")
@pagecache.anonymous_cache()
def index() -> Any:
    return render_template("forums/index.html", rows=queries.category_index(_viewer()))


@bp.get("/latest")
@pagecache.anonymous_cache()
def latest() -> Any:
    viewer = _viewer()
    try:
        listing = queries.topic_list(
            viewer, category_ids=queries.allowed_category_ids(viewer), cursor=request.args.get("cursor")
        )
    except InvalidCursor:
        return redirect(url_for("forums.latest"))
    return render_template("forums/latest.html", listing=listing)


@bp.get("/c/<int:category_id>")
@pagecache.anonymous_cache()
def category(category_id: int) -> Any:
    viewer = _viewer()
    category, parent, children = queries.category_with_children(category_id)
    if category is None:
        raise NotFound(_("This forum does not exist."))
    access = viewer.access(parent) if parent is not None else policies.Access(True)
    if access.allowed:
        access = viewer.access(category)
    if not access.allowed:
        return render_template("forums/locked.html", category=category, reason=access.reason), 403
    cursor = request.args.get("cursor")
    try:
        listing = queries.topic_list(viewer, category_ids=[category.id], cursor=cursor)
    except InvalidCursor:
        return redirect(url_for("forums.category", category_id=category_id))
    pinned = [] if cursor else queries.pinned_topics(viewer, category.id)
    return render_template(
        "forums/category.html",
        category=category,
        parent=parent,
        children=children,
        listing=listing,
        pinned=pinned,
        following=queries.is_following_category(viewer.member_id, category.id),
    )


@bp.get("/t/<int:topic_id>")
@pagecache.anonymous_cache(on_hit=lambda topic_id: services.record_view(topic_id))
def topic(topic_id: int) -> Any:
    topic = _topic_or_404(topic_id)
    pages = queries.page_count(topic)
    raw_page = request.args.get("page", "1")
    if raw_page == "last":
        page = pages
    else:
        try:
            page = int(raw_page)
        except ValueError:
            page = 1
        if page < 1 or page > pages:
            return redirect(url_for("forums.topic", topic_id=topic_id, page=min(max(page, 1), pages)))
    member_id = current_user.id if current_user.is_authenticated else None
    moderator = policies.is_moderator(current_user)
    posts = queries.posts_on_page(topic, page)
    state = queries.member_topic_state(member_id, topic.id)
    liked = queries.liked_post_ids(member_id, [p.id for p in posts])
    poll = queries.poll_of(topic, member_id)
    parent = db.session.get(Category, topic.category.parent_id) if topic.category.parent_id else None
    services.record_view(topic.id)
    if member_id and posts:
        social.mark_read(member_id, topic.id, posts[-1].position)
    _commit_keeping_loaded()
    form = ReplyForm() if policies.can_reply(current_user, topic) else None
    return render_template(
        "forums/topic.html",
        topic=topic,
        parent=parent,
        posts=posts,
        page=page,
        pages=pages,
        liked=liked,
        state=state,
        poll=poll,
        form=form,
        moderator=moderator,
        reason_form=ReasonForm() if moderator else None,
        delete_window=services.delete_window(),
        now=utcnow(),
    )


@bp.get("/t/<int:topic_id>/unread")
def first_unread(topic_id: int) -> Any:
    """Jumps to the first post the member has not read yet (or the last one when all are read)."""
    topic = _topic_or_404(topic_id)
    member_id = current_user.id if current_user.is_authenticated else None
    state = queries.member_topic_state(member_id, topic.id)
    position = queries.first_unread_position(topic.id, state.last_read or 0) or topic.post_seq
    page = queries.page_of_position(topic.id, position)
    return redirect(url_for("forums.topic", topic_id=topic.id, page=page, _anchor=f"p{position}"))


@bp.get("/p/<int:post_id>")
def post(post_id: int) -> Any:
    post = _post_or_404(post_id)
    page = (
        queries.page_of_ordinal(post.ordinal)
        if post.ordinal
        else queries.page_of_position(post.topic_id, post.position)
    )
    return redirect(url_for("forums.topic", topic_id=post.topic_id, page=page, _anchor=f"p{post.position}"))


@bp.get("/p/<int:post_id>/fragment")
def post_fragment(post_id: int) -> Any:
    """One post, rendered for the reader (their language, their like state): fetched when a reply arrives live."""
    post = _post_or_404(post_id)
    topic = _topic_or_404(post.topic_id)
    member_id = current_user.id if current_user.is_authenticated else None
    return render_template(
        "forums/_post.html",
        post=post,
        topic=topic,
        liked=queries.liked_post_ids(member_id, [post.id]),
        moderator=policies.is_moderator(current_user),
        delete_window=services.delete_window(),
        now=utcnow(),
    )


@bp.get("/p/<int:post_id>/likers")
def likers(post_id: int) -> Any:
    post = _post_or_404(post_id)
    _topic_or_404(post.topic_id)
    template = "forums/_likers.html" if request.headers.get("HX-Request") else "forums/likers.html"
    return render_template(template, post=post, members=queries.likers(post.id))


@bp.get("/p/<int:post_id>/revisions")
@login_required
def revisions(post_id: int) -> Any:
    post = _post_or_404(post_id)
    if not policies.can_see_revisions(current_user, post):
        abort(403)
    topic = _topic_or_404(post.topic_id)
    return render_template("forums/revisions.html", post=post, topic=topic, revisions=queries.revisions(post.id))


# --- writing --------------------------------------------------------------------------------------------------


@bp.route("/c/<int:category_id>/new", methods=["GET", "POST"])
@login_required
def new_topic(category_id: int) -> Any:
    category = db.session.get(Category, category_id)
    if category is None:
        raise NotFound(_("This forum does not exist."))
    access = _viewer().access(category)
    if not access.allowed:
        return render_template("forums/locked.html", category=category, reason=access.reason), 403
    form = TopicForm()
    if form.validate_on_submit():
        try:
            poll = None
            if (form.poll_question.data or "").strip():
                closes_at = utcnow() + timedelta(days=form.poll_days.data) if form.poll_days.data else None
                poll = {
                    "question": form.poll_question.data,
                    "options": (form.poll_options.data or "").splitlines(),
                    "multiple": bool(form.poll_multiple.data),
                    "closes_at": closes_at,
                }
            topic = services.create_topic(
                actor=current_user,
                category=category,
                title=form.title.data,
                body=form.body.data,
                image=_upload(form),
                poll=poll,
            )
            db.session.commit()
            return redirect(url_for("forums.topic", topic_id=topic.id), code=303)
        except DomainError as exc:
            db.session.rollback()
            _form_error(form, exc)
    status = 422 if request.method == "POST" else 200
    return render_template("forums/new_topic.html", form=form, category=category), status


@bp.route("/t/<int:topic_id>/reply", methods=["GET", "POST"])
@login_required
def reply(topic_id: int) -> Any:
    topic = _topic_or_404(topic_id)
    form = ReplyForm()
    if request.method == "GET":
        quoted = request.args.get("quote", type=int)
        if quoted:
            post = queries.post_with_author(quoted)
            if post is not None and post.topic_id == topic.id and post.is_visible:
                form.body.data = content.quote_markdown(post.author.display_name if post.author else "", post.body)
                form.quoted_post_id.data = str(post.id)
        return render_template("forums/reply.html", form=form, topic=topic)
    if form.validate_on_submit():
        try:
            quoted_id = int(form.quoted_post_id.data) if (form.quoted_post_id.data or "").isdigit() else None
            post = services.reply(
                actor=current_user, topic=topic, body=form.body.data, quoted_post_id=quoted_id, image=_upload(form)
            )
            db.session.commit()
            return redirect(url_for("forums.post", post_id=post.id), code=303)
        except DomainError as exc:
            db.session.rollback()
            topic = _topic_or_404(topic_id)
            _form_error(form, exc)
    return render_template("forums/reply.html", form=form, topic=topic), 422


@bp.route("/p/<int:post_id>/edit", methods=["GET", "POST"])
@login_required
def edit(post_id: int) -> Any:
    post = _post_or_404(post_id)
    topic = _topic_or_404(post.topic_id)
    if not policies.can_edit(current_user, post, topic):
        abort(403)
    form = EditForm()
    if request.method == "GET":
        form.body.data = post.body
        form.title.data = topic.title
    elif form.validate_on_submit():
        try:
            services.edit_post(
                actor=current_user,
                post=post,
                body=form.body.data,
                title=form.title.data if post.position == 1 else None,
            )
            db.session.commit()
            return redirect(url_for("forums.post", post_id=post.id), code=303)
        except DomainError as exc:
            db.session.rollback()
            post = _post_or_404(post_id)
            topic = _topic_or_404(post.topic_id)
            _form_error(form, exc)
    status = 422 if request.method == "POST" else 200
    return render_template("forums/edit.html", form=form, post=post, topic=topic), status


@bp.post("/p/<int:post_id>/delete")
@login_required
def delete(post_id: int) -> Any:
    post = _post_or_404(post_id)
    topic_id = post.topic_id
    services.delete_post(actor=current_user, post=post, reason=request.form.get("reason", ""))
    db.session.commit()
    flash(_("The post was deleted."), "success")
    if post.position == 1:
        return redirect(url_for("forums.index"), code=303)
    return redirect(url_for("forums.topic", topic_id=topic_id), code=303)


@bp.post("/uploads")
@login_required
def upload() -> Any:
    """An image for the editor: stored through the shared pipeline, answered with the Markdown to insert."""
    file = request.files.get("image")
    if file is None:
        raise ValidationFailed(_("Choose an image to upload."))
    markdown = services.store_upload(actor=current_user, stream=file.stream)
    db.session.commit()
    return jsonify({"markdown": markdown})


# --- social -----------------------------------------------------------------------------------------------------


def _back(default: str) -> Any:
    if request.headers.get("HX-Request"):
        return None
    return redirect(request.referrer or default, code=303)


@bp.post("/p/<int:post_id>/like")
@login_required
def like(post_id: int) -> Any:
    post = social.load_post(post_id)
    _topic_or_404(post.topic_id)
    if request.form.get("undo"):
        social.unlike_post(actor=current_user, post=post)
    else:
        social.like_post(actor=current_user, post=post)
    db.session.commit()
    if request.headers.get("HX-Request"):
        post = queries.post_with_author(post_id)
        return render_template(
            "forums/_like_button.html", post=post, liked=queries.liked_post_ids(current_user.id, [post.id])
        )
    return redirect(url_for("forums.post", post_id=post_id), code=303)


@bp.post("/t/<int:topic_id>/follow")
@login_required
def follow_topic(topic_id: int) -> Any:
    topic = _topic_or_404(topic_id)
    follow = request.form.get("follow") == "1"
    social.follow_topic(actor=current_user, topic=topic, follow=follow)
    db.session.commit()
    flash(_("You follow this topic now.") if follow else _("You no longer follow this topic."), "success")
    return redirect(url_for("forums.topic", topic_id=topic_id), code=303)


@bp.post("/c/<int:category_id>/follow")
@login_required
def follow_category(category_id: int) -> Any:
    category = db.session.get(Category, category_id)
    if category is None:
        raise NotFound(_("This forum does not exist."))
    follow = request.form.get("follow") == "1"
    social.follow_category(actor=current_user, category=category, follow=follow)
    db.session.commit()
    flash(_("You follow this forum now.") if follow else _("You no longer follow this forum."), "success")
    return redirect(url_for("forums.category", category_id=category_id), code=303)


@bp.post("/t/<int:topic_id>/vote")
@login_required
def vote(topic_id: int) -> Any:
    topic = _topic_or_404(topic_id)
    poll = db.session.scalar(db.select(Poll).where(Poll.topic_id == topic.id))
    if poll is None:
        raise NotFound(_("This topic has no poll."))
    choices = [int(v) for v in request.form.getlist("option") if v.isdigit()]
    polls.vote(actor=current_user, poll=poll, option_ids=choices)
    db.session.commit()
    flash(_("Thank you for voting."), "success")
    return redirect(url_for("forums.topic", topic_id=topic_id, _anchor="poll"), code=303)


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences() -> Any:
    form = DigestForm()
    if request.method == "GET":
        preference = queries.digest_preference(current_user.id)
        form.frequency.data = preference.frequency if preference else "off"
    elif form.validate_on_submit():
        social.set_digest(actor=current_user, frequency=form.frequency.data)
        db.session.commit()
        flash(_("Your forum email preference was saved."), "success")
        return redirect(url_for("forums.preferences"), code=303)
    return render_template("forums/preferences.html", form=form)


# --- moderation -----------------------------------------------------------------------------------------------

TOPIC_ACTIONS = {
    "pin": ("pinned", True),
    "unpin": ("pinned", False),
    "lock": ("locked", True),
    "unlock": ("locked", False),
    "close": ("closed", True),
    "reopen": ("closed", False),
}
STATUS_ACTIONS = {"hide": PostStatus.HIDDEN, "restore": PostStatus.VISIBLE, "hold": PostStatus.HELD}


@bp.post("/t/<int:topic_id>/moderate")
@login_required
def moderate_topic(topic_id: int) -> Any:
    topic = queries.topic_with_category(topic_id)
    if topic is None:
        raise NotFound(_("This topic does not exist or was removed."))
    action = request.form.get("action", "")
    reason = (request.form.get("reason") or "")[:300]
    if action in TOPIC_ACTIONS:
        flag, value = TOPIC_ACTIONS[action]
        services.set_topic_flag(actor=current_user, topic=topic, flag=flag, value=value, reason=reason)
    elif action in STATUS_ACTIONS:
        services.moderate_topic(actor=current_user, topic=topic, status=STATUS_ACTIONS[action], reason=reason)
    else:
        raise ValidationFailed(_("Unknown topic action."))
    db.session.commit()
    flash(_("Done."), "success")
    return redirect(url_for("forums.topic", topic_id=topic_id), code=303)


@bp.post("/p/<int:post_id>/moderate")
@login_required
def moderate_post(post_id: int) -> Any:
    post = db.session.get(Post, post_id)
    if post is None:
        raise NotFound(_("This post does not exist or was removed."))
    action = request.form.get("action", "")
    if action not in STATUS_ACTIONS:
        raise ValidationFailed(_("Unknown post action."))
    services.moderate_post(
        actor=current_user, post=post, status=STATUS_ACTIONS[action], reason=(request.form.get("reason") or "")[:300]
    )
    db.session.commit()
    flash(_("Done."), "success")
    return redirect(url_for("forums.topic", topic_id=post.topic_id), code=303)


@bp.route("/categories/new", methods=["GET", "POST"])
@login_required
def new_category() -> Any:
    if not policies.is_admin(current_user):
        abort(403)
    form = CategoryForm()
    form.parent_id.choices = [SelectChoice("", _("None (top level)"))] + [
        SelectChoice(str(c.id), c.name) for c in queries.categories_for_select() if c.parent_id is None
    ]
    form.min_tier.choices = [SelectChoice("", _("Any tier"))] + [
        SelectChoice(code, name) for code, name in tier_choices()
    ]
    if form.validate_on_submit():
        try:
            roles = [r.strip() for r in (form.allowed_roles.data or "").split(",") if r.strip()]
            category = services.create_category(
                actor=current_user,
                name=form.name.data,
                description=form.description.data,
                icon=form.icon.data,
                colour=form.colour.data,
                position=form.position.data or 0,
                parent_id=int(form.parent_id.data) if form.parent_id.data else None,
                allowed_roles=[r for r in roles if r in policies.ROLE_LABELS],
                min_tier=form.min_tier.data or None,
            )
            db.session.commit()
            return redirect(url_for("forums.category", category_id=category.id), code=303)
        except DomainError as exc:
            db.session.rollback()
            _form_error(form, exc)
    return render_template("forums/category_form.html", form=form)
