"""Pages of quizzes: the list, a quiz with its leaderboard, taking an attempt, results, and admin."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from gamification.quizzes import live, policies, queries, services
from gamification.quizzes.forms import AttemptForm, BankForm, QuestionForm, QuizForm, to_local, to_utc
from gamification.quizzes.models import Attempt, Layout, LiveSession, Question, QuestionBank, Quiz
from portal.accounts.access import role_required
from portal.db import db, utcnow
from portal.errors import DomainError, ValidationFailed
from portal.sanitize import render_markdown

bp = Blueprint("quizzes", __name__)


def _get_or_404(model: Any, object_id: int) -> Any:
    found = db.session.get(model, object_id)
    if found is None:
        abort(404)
    return found


def _own_attempt(attempt_id: int) -> Attempt:
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None or not policies.owns(current_user, attempt):
        abort(404)
    return attempt


@bp.get("/quizzes")
def index() -> Any:
    return render_template("quizzes/index.html", quizzes=queries.list_quizzes(), now=utcnow())


@bp.get("/quizzes/<int:quiz_id>")
def detail(quiz_id: int) -> Any:
    quiz = _get_or_404(Quiz, quiz_id)
    mine = queries.member_attempts(quiz.id, current_user.id) if current_user.is_authenticated else []
    running = next((a for a in mine if not a.is_submitted and a.deadline_at + services.GRACE >= utcnow()), None)
    return render_template(
        "quizzes/detail.html",
        quiz=quiz,
        description_html=render_markdown(quiz.description),
        attempts=mine,
        running=running,
        attempts_left=quiz.attempts_allowed - len(mine),
        leaderboard=queries.leaderboard(quiz.id),
        live_session=live.active_session(quiz.id),
        form=AttemptForm(),
        now=utcnow(),
    )


@bp.post("/quizzes/<int:quiz_id>/start")
@login_required
def start(quiz_id: int) -> Any:
    quiz = _get_or_404(Quiz, quiz_id)
    if not AttemptForm().validate_on_submit():
        abort(400)
    try:
        attempt = services.start_attempt(actor=current_user, quiz=quiz)
    except DomainError as exc:
        db.session.commit()  # an expired attempt scored on the way is kept
        flash(str(exc.message), "danger")
        return redirect(url_for("quizzes.detail", quiz_id=quiz.id), code=303)
    db.session.commit()
    return redirect(url_for("quizzes.attempt", attempt_id=attempt.id), code=303)


def _time_up(attempt: Attempt) -> Any:
    services.submit_attempt(actor=current_user, attempt=attempt)
    db.session.commit()
    flash(_("Time is up. Your attempt was scored with the answers that arrived in time."), "warning")
    return redirect(url_for("quizzes.result", attempt_id=attempt.id), code=303)


@bp.get("/quizzes/attempts/<int:attempt_id>")
@login_required
def attempt(attempt_id: int) -> Any:
    attempt = _own_attempt(attempt_id)
    if attempt.is_submitted:
        return redirect(url_for("quizzes.result", attempt_id=attempt.id))
    if utcnow() > attempt.deadline_at + services.GRACE:
        return _time_up(attempt)
    quiz = db.session.get(Quiz, attempt.quiz_id)
    shown = queries.attempt_questions(attempt)
    answers = queries.answers_of(attempt.id)
    if quiz.layout == Layout.ONE:
        try:
            number = min(max(int(request.args.get("q", "1")), 1), len(shown))
        except ValueError:
            number = 1
        shown_now = shown[number - 1 : number]
    else:
        number, shown_now = 0, shown
    return render_template(
        "quizzes/attempt.html",
        quiz=quiz,
        attempt=attempt,
        shown=shown_now,
        count=len(shown),
        number=number,
        answers=answers,
        answered=len(answers),
        form=AttemptForm(),
        server_now=utcnow(),
    )


def _chosen(field: str) -> list[int]:
    try:
        return [int(value) for value in request.form.getlist(field)]
    except ValueError:
        raise ValidationFailed(_("That answer is not one of this question's options.")) from None


@bp.post("/quizzes/attempts/<int:attempt_id>/answer")
@login_required
def answer(attempt_id: int) -> Any:
    """One-question-per-page: save this answer, then go to the next question (or finish)."""
    attempt = _own_attempt(attempt_id)
    if not AttemptForm().validate_on_submit():
        abort(400)
    if attempt.is_submitted:
        flash(_("This attempt has already been submitted; the answer was not saved."), "info")
        return redirect(url_for("quizzes.result", attempt_id=attempt.id), code=303)
    try:
        question_id = int(request.form.get("question_id", ""))
        number = int(request.form.get("number", "1"))
    except ValueError:
        abort(400)
    finishing = request.form.get("go") == "finish"
    chosen = _chosen("answer")
    if chosen or not finishing:
        try:
            services.answer_question(actor=current_user, attempt=attempt, question_id=question_id, option_ids=chosen)
        except DomainError as exc:
            db.session.rollback()
            if utcnow() > attempt.deadline_at + services.GRACE:
                return _time_up(db.session.get(Attempt, attempt_id))
            flash(str(exc.message), "danger")
            return redirect(url_for("quizzes.attempt", attempt_id=attempt_id, q=number), code=303)
    if finishing:
        services.submit_attempt(actor=current_user, attempt=attempt)
        db.session.commit()
        return redirect(url_for("quizzes.result", attempt_id=attempt.id), code=303)
    db.session.commit()
    target = number - 1 if request.form.get("go") == "back" else number + 1
    return redirect(url_for("quizzes.attempt", attempt_id=attempt.id, q=max(target, 1)), code=303)


@bp.post("/quizzes/attempts/<int:attempt_id>/submit")
@login_required
def submit(attempt_id: int) -> Any:
    """All-on-one-page (or "finish now"): save the answers that came with the form, then score once."""
    attempt = _own_attempt(attempt_id)
    if not AttemptForm().validate_on_submit():
        abort(400)
    if attempt.is_submitted:
        flash(_("This attempt was already submitted; it was counted once."), "info")
        return redirect(url_for("quizzes.result", attempt_id=attempt.id), code=303)
    posted = {key for key in request.form if key.startswith("q") and key[1:].isdigit()}
    foreign = [key for key in posted if int(key[1:]) not in attempt.question_ids]
    if foreign:
        flash(_("That question is not part of this attempt."), "danger")
        return redirect(url_for("quizzes.attempt", attempt_id=attempt.id), code=303)
    late = False
    try:
        for question_id in attempt.question_ids:
            chosen = _chosen(f"q{question_id}")
            if not chosen or late:
                continue
            try:
                services.answer_question(
                    actor=current_user, attempt=attempt, question_id=question_id, option_ids=chosen
                )
            except DomainError:
                if utcnow() <= attempt.deadline_at + services.GRACE:
                    raise
                late = True  # after the deadline nothing more counts; score what arrived in time
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
        return redirect(url_for("quizzes.attempt", attempt_id=attempt_id), code=303)
    services.submit_attempt(actor=current_user, attempt=attempt)
    db.session.commit()
    if late:
        flash(_("Time is up. Your attempt was scored with the answers that arrived in time."), "warning")
    return redirect(url_for("quizzes.result", attempt_id=attempt.id), code=303)


@bp.get("/quizzes/attempts/<int:attempt_id>/result")
@login_required
def result(attempt_id: int) -> Any:
    attempt = _own_attempt(attempt_id)
    if not attempt.is_submitted:
        return redirect(url_for("quizzes.attempt", attempt_id=attempt.id))
    quiz = db.session.get(Quiz, attempt.quiz_id)
    shown = queries.attempt_questions(attempt)
    return render_template(
        "quizzes/result.html",
        quiz=quiz,
        attempt=attempt,
        shown=shown,
        answers=queries.answers_of(attempt.id),
        explanations={s.question.id: render_markdown(s.question.explanation) for s in shown},
    )


# --- admin -----------------------------------------------------------------------------------


@bp.get("/admin/quizzes")
@role_required("admin")
def admin_index() -> Any:
    return render_template(
        "quizzes/admin_index.html", banks=queries.list_banks(), quizzes=queries.list_quizzes(), form=BankForm()
    )


@bp.post("/admin/quizzes/banks")
@role_required("admin")
def admin_create_bank() -> Any:
    form = BankForm()
    if form.validate_on_submit():
        try:
            bank = services.create_bank(actor=current_user, name=form.name.data, language=form.language.data)
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "danger")
        else:
            db.session.commit()
            return redirect(url_for("quizzes.admin_bank", bank_id=bank.id), code=303)
    else:
        flash(_("Please give the question bank a name."), "danger")
    return redirect(url_for("quizzes.admin_index"), code=303)


@bp.route("/admin/quizzes/banks/<int:bank_id>", methods=["GET", "POST"])
@role_required("admin")
def admin_bank(bank_id: int) -> Any:
    bank = _get_or_404(QuestionBank, bank_id)
    form = QuestionForm()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            upload = form.image.data
            try:
                services.add_question(
                    actor=current_user,
                    bank=bank,
                    kind=form.kind.data,
                    text=form.text.data,
                    options=form.option_pairs(),
                    true_is_correct=form.true_is_correct.data == "1",
                    explanation=form.explanation.data or "",
                    image=upload.stream if upload and getattr(upload, "filename", "") else None,
                )
            except DomainError as exc:
                db.session.rollback()
                flash(str(exc.message), "danger")
            else:
                db.session.commit()
                flash(_("The question has been added."), "success")
                return redirect(url_for("quizzes.admin_bank", bank_id=bank.id), code=303)
    return render_template(
        "quizzes/admin_bank.html", bank=bank, questions=queries.bank_questions(bank.id), form=form
    ), status


@bp.post("/admin/quizzes/questions/<int:question_id>/archive")
@role_required("admin")
def admin_archive_question(question_id: int) -> Any:
    question = _get_or_404(Question, question_id)
    if AttemptForm().validate_on_submit():
        services.archive_question(actor=current_user, question=question)
        db.session.commit()
        flash(_("The question was removed from the bank."), "info")
    return redirect(url_for("quizzes.admin_bank", bank_id=question.bank_id), code=303)


def _quiz_data(form: QuizForm) -> services.QuizData:
    return services.QuizData(
        title=form.title.data,
        description=form.description.data or "",
        bank_id=form.bank_id.data,
        selection=form.selection.data,
        draw_count=form.draw_count.data,
        fixed_question_ids=list(form.fixed_question_ids.data or []),
        time_limit_seconds=form.time_limit_minutes.data * 60,
        attempts_allowed=form.attempts_allowed.data,
        pass_percent=form.pass_percent.data,
        opens_at=to_utc(form.opens_at.data),
        closes_at=to_utc(form.closes_at.data),
        pass_points=form.pass_points.data,
        points_per_correct=form.points_per_correct.data,
        layout=form.layout.data,
    )


def _fill(form: QuizForm, quiz: Quiz) -> None:
    for name in ("title", "description", "bank_id", "selection", "draw_count", "attempts_allowed", "pass_percent",
                 "pass_points", "points_per_correct", "layout"):  # fmt: skip
        getattr(form, name).data = getattr(quiz, name)
    form.fixed_question_ids.data = list(quiz.fixed_question_ids or [])
    form.time_limit_minutes.data = max(quiz.time_limit_seconds // 60, 1)
    form.opens_at.data = to_local(quiz.opens_at)
    form.closes_at.data = to_local(quiz.closes_at)


@bp.route("/admin/quizzes/new", methods=["GET", "POST"])
@bp.route("/admin/quizzes/<int:quiz_id>/edit", methods=["GET", "POST"])
@role_required("admin")
def admin_edit(quiz_id: int | None = None) -> Any:
    quiz = _get_or_404(Quiz, quiz_id) if quiz_id else None
    form = QuizForm()
    form.bank_id.choices = [
        SelectChoice(bank.id, f"{bank.name} ({bank.language})") for bank, _n in queries.list_banks()
    ]
    form.fixed_question_ids.choices = [SelectChoice(qid, label) for qid, label in queries.question_choices()]
    if request.method == "GET":
        if quiz is not None:
            _fill(form, quiz)
        else:
            now = to_local(utcnow()).replace(second=0, microsecond=0)
            form.opens_at.data, form.closes_at.data = now, now + timedelta(days=7)
    if form.validate_on_submit():
        try:
            data = _quiz_data(form)
            if quiz is None:
                quiz = services.create_quiz(actor=current_user, data=data)
            else:
                services.update_quiz(actor=current_user, quiz=quiz, data=data)
        except DomainError as exc:
            db.session.rollback()
            for name in exc.fields:
                field = getattr(form, name, None) or (form.time_limit_minutes if name == "time_limit_seconds" else None)
                if field is not None:
                    field.errors = [*field.errors, str(exc.message)]
                    break
            else:
                flash(str(exc.message), "danger")
        else:
            db.session.commit()
            flash(_("The quiz has been saved."), "success")
            return redirect(url_for("quizzes.detail", quiz_id=quiz.id), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("quizzes/admin_form.html", form=form, quiz=quiz), status


# --- live quiz events -------------------------------------------------------------------------


def _live_or_404(session_id: int) -> LiveSession:
    return _get_or_404(LiveSession, session_id)


@bp.post("/admin/quizzes/<int:quiz_id>/live")
@role_required("admin")
def live_start(quiz_id: int) -> Any:
    quiz = _get_or_404(Quiz, quiz_id)
    if not AttemptForm().validate_on_submit():
        abort(400)
    try:
        session = live.start_live(actor=current_user, quiz=quiz)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
        return redirect(url_for("quizzes.detail", quiz_id=quiz.id), code=303)
    db.session.commit()
    return redirect(url_for("quizzes.live_host", session_id=session.id), code=303)


@bp.get("/quizzes/live/<int:session_id>/host")
@role_required("admin")
def live_host(session_id: int) -> Any:
    session = _live_or_404(session_id)
    quiz = db.session.get(Quiz, session.quiz_id)
    return render_template(
        "quizzes/live_host.html", session=session, quiz=quiz, state=live.state(session),
        answers=live.answer_count(session), form=AttemptForm(),
    )  # fmt: skip


@bp.post("/quizzes/live/<int:session_id>/<any(next, reveal):step>")
@role_required("admin")
def live_step(session_id: int, step: str) -> Any:
    session = _live_or_404(session_id)
    if AttemptForm().validate_on_submit():
        try:
            if step == "next":
                live.next_question(actor=current_user, session=session)
            else:
                live.reveal(actor=current_user, session=session)
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "danger")
        else:
            db.session.commit()
    return redirect(url_for("quizzes.live_host", session_id=session_id), code=303)


@bp.get("/quizzes/live/<int:session_id>")
@login_required
def live_play(session_id: int) -> Any:
    session = _live_or_404(session_id)
    quiz = db.session.get(Quiz, session.quiz_id)
    return render_template("quizzes/live_play.html", session=session, quiz=quiz, form=AttemptForm())


@bp.post("/quizzes/live/<int:session_id>/answer")
@login_required
def live_answer(session_id: int) -> Any:
    """JSON in and out (called by the player's page); refusals come back as the API's error body."""
    session = _live_or_404(session_id)
    payload = request.get_json(silent=True) or {}
    try:
        question_id = int(payload.get("question"))
        option_ids = [int(i) for i in payload.get("options") or []]
    except (TypeError, ValueError):
        raise ValidationFailed(_("That answer is not one of this question's options.")) from None
    live.answer(actor=current_user, session=session, question_id=question_id, option_ids=option_ids)
    db.session.commit()
    return jsonify({"ok": True, "message": _("Answer received. Wait for the reveal!")})
