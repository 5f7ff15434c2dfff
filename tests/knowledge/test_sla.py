"""The SLA clock on real tickets: due times from policies, pauses while waiting on the customer, the
warning and breach sweep (job and CLI), and closing resolved tickets after the reopen window."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from knowledge.tickets import desk, jobs, sla
from knowledge.tickets.business_hours import BusinessCalendar
from knowledge.tickets.models import SlaPolicy, SupportHoliday, TicketEvent
from portal.db import utcnow
from portal.extensions import db
from portal.notifications.models import Notification
from tests.knowledge.conftest import open_member_ticket
from tests.portal.web import fresh, post_form, recorded_events, sign_in

# Saturday 2026-11-21 09:00 in Tehran (UTC+03:30).
SATURDAY_9 = datetime(2026, 11, 21, 5, 30, tzinfo=UTC)


def _notices(member_id: int) -> list[str]:
    return list(db.session.scalars(sa.select(Notification.kind).where(Notification.member_id == member_id)))


def test_due_times_follow_the_priority_policy_in_business_hours(member):
    db.session.add(SlaPolicy(priority="normal", first_response_minutes=120, resolution_minutes=600))
    ticket = open_member_ticket(member)
    ticket.created_at = SATURDAY_9
    sla.recompute(ticket)
    # 2h → Saturday 11:00; 10h → Saturday 17:00 is 8h, so Sunday 10:00 (Tehran) = 06:30 UTC.
    assert ticket.first_response_due_at == SATURDAY_9 + timedelta(hours=2)
    assert ticket.resolution_due_at == datetime(2026, 11, 22, 6, 30, tzinfo=UTC)


def test_a_holiday_moves_the_due_time(member):
    db.session.add(SlaPolicy(priority="normal", first_response_minutes=60, resolution_minutes=600))
    db.session.add(SupportHoliday(day=date(2026, 11, 22), name="Holiday"))
    ticket = open_member_ticket(member)
    ticket.created_at = SATURDAY_9
    sla.recompute(ticket)
    assert ticket.resolution_due_at == datetime(2026, 11, 23, 6, 30, tzinfo=UTC)  # Monday 10:00


def test_changing_the_priority_recomputes_the_due_times(agent, member):
    ticket = open_member_ticket(member)
    normal_due = ticket.first_response_due_at
    desk.change_priority(actor=agent, ticket=ticket, priority="urgent")
    assert ticket.first_response_due_at < normal_due


def test_waiting_on_the_customer_pauses_the_clock_and_the_pause_is_added_on_resume(agent, member):
    ticket = open_member_ticket(member)
    ticket.created_at = SATURDAY_9
    sla.recompute(ticket)
    due_before = ticket.resolution_due_at
    desk.reply(actor=agent, ticket=ticket, body="Which model?", then_status="pending_customer")
    assert ticket.status == "pending_customer"
    assert ticket.sla_due_at is None
    # Pretend the pause started on Saturday 10:00 and the customer answers Sunday 10:00: 9 business hours.
    ticket.sla_paused_at = SATURDAY_9 + timedelta(hours=1)
    sla.resume(ticket, SATURDAY_9 + timedelta(days=1, hours=1))
    assert ticket.sla_paused_seconds == 9 * 3600
    cal = sla.calendar()
    assert ticket.resolution_due_at == cal.add(due_before, timedelta(hours=9))
    assert ticket.sla_due_at == ticket.resolution_due_at


def test_a_paused_ticket_is_never_warned_nor_breached(agent, member):
    ticket = open_member_ticket(member)
    desk.reply(actor=agent, ticket=ticket, body="?", then_status="pending_customer")
    ticket.resolution_due_at = utcnow() - timedelta(days=1)
    assert jobs.sweep_sla() == {"warned": 0, "breached": 0}
    assert not ticket.resolution_breached


def test_the_sweep_warns_the_assignee_once_before_the_deadline(agent, member):
    ticket = open_member_ticket(member)
    desk.assign(actor=agent, ticket=ticket, assignee_id=agent.id, team_id=None)
    ticket.sla_due_at = utcnow() + timedelta(minutes=20)
    assert jobs.sweep_sla() == {"warned": 1, "breached": 0}
    assert jobs.sweep_sla() == {"warned": 0, "breached": 0}
    assert _notices(agent.id).count("ticket.sla_warning") == 1
    assert sla.state(ticket, utcnow()) == "at_risk"


def test_the_sweep_marks_a_missed_first_response_once_and_tells_the_assignee(agent, member):
    ticket = open_member_ticket(member)
    desk.assign(actor=agent, ticket=ticket, assignee_id=agent.id, team_id=None)
    ticket.sla_due_at = ticket.first_response_due_at = utcnow() - timedelta(minutes=1)
    assert jobs.sweep_sla()["breached"] == 1
    assert ticket.first_response_breached
    assert not ticket.resolution_breached
    assert jobs.sweep_sla()["breached"] == 0
    assert "ticket.sla_breached" in _notices(agent.id)
    actions = db.session.scalars(sa.select(TicketEvent.action).where(TicketEvent.ticket_id == ticket.id)).all()
    assert actions.count("sla_breached") == 1
    assert sla.state(ticket, utcnow()) == "breached"


def test_a_late_reply_or_resolution_counts_as_a_breach(agent, member):
    ticket = open_member_ticket(member)
    ticket.first_response_due_at = utcnow() - timedelta(minutes=5)
    desk.reply(actor=agent, ticket=ticket, body="Sorry for the wait")
    assert ticket.first_response_breached
    ticket.resolution_due_at = utcnow() - timedelta(minutes=1)
    desk.change_status(actor=agent, ticket=ticket, status="resolved")
    assert ticket.resolution_breached


def test_the_sla_check_command_runs_the_sweep_and_commits(app, agent, member):
    ticket = open_member_ticket(member)
    ticket.sla_due_at = ticket.first_response_due_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["portal", "tickets", "sla-check"])
    assert result.exit_code == 0, result.output
    assert "0 warned, 1 breached" in result.output
    assert fresh(ticket).first_response_breached


def test_resolved_tickets_close_after_the_reopen_window(app, agent, member):
    old = open_member_ticket(member)
    recent = open_member_ticket(member)
    for ticket in (old, recent):
        desk.change_status(actor=agent, ticket=ticket, status="resolved")
    old.resolved_at = utcnow() - timedelta(days=app.config["SUPPORT_REOPEN_DAYS"] + 1)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["portal", "tickets", "close-resolved"])
    assert "1 closed" in result.output
    assert (fresh(old).status, fresh(recent).status) == ("closed", "resolved")


def test_an_admin_sets_a_policy_and_a_holiday_and_both_are_audited(web, admin):
    sign_in(web, admin)
    with recorded_events("audit.logged") as audits:
        post_form(
            web,
            "/desk/sla",
            {
                "which": "policy",
                "sla-priority": "high",
                "sla-first_response_minutes": "30",
                "sla-resolution_minutes": "300",
            },
        )
        post_form(web, "/desk/sla", {"which": "holiday", "holiday-day": "2026-03-21", "holiday-name": "Nowruz"})
    assert sla.targets("high") == (30, 300)
    assert db.session.scalar(sa.select(SupportHoliday.name)) == "Nowruz"
    assert [a.attributes["action"] for a in audits] == ["tickets.sla_policy_set", "tickets.holiday_added"]


def test_a_policy_whose_first_response_is_after_the_resolution_is_refused(admin):
    with pytest.raises(desk.ValidationFailed):
        desk.set_sla_policy(actor=admin, priority="low", first_response_minutes=500, resolution_minutes=100)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SlaPolicy)) == 0


def test_agents_cannot_change_the_desk_settings(agent):
    with pytest.raises(desk.NotAllowed):
        desk.set_sla_policy(actor=agent, priority="low", first_response_minutes=5, resolution_minutes=10)


def test_the_configured_week_is_used(app, monkeypatch):
    monkeypatch.setitem(app.config, "SUPPORT_WEEK", "sat-thu 00:00-24:00")
    cal = sla.calendar()
    assert isinstance(cal, BusinessCalendar)
    assert cal.between(SATURDAY_9, SATURDAY_9 + timedelta(hours=24)) == timedelta(hours=24)
