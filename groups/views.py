"""Own the staff pages: programs and ladders, cohorts, rosters, sessions, attendance sheets."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from groups import forms, services
from groups.access import (
    CohortAccess,
    access_new_cohort,
    access_new_program,
    access_program,
    access_staff,
    can,
)
from groups.errors import Conflict, Forbidden, NotAuthenticated, NotFound, ValidationFailed
from groups.extensions import db
from groups.instruments import INSTRUMENT_EXAMPLE
from groups.models import Role

bp = Blueprint("pages", __name__)

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _me() -> Any:
    return current_user._get_current_object()


def _allowed(check: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
    """Say whether an access check passes, for templates choosing which links to show."""
    try:
        check(*args, **kwargs)
    except (Forbidden, NotFound, NotAuthenticated):
        return False
    return True


def _invalid(
    form: FlaskForm, exc: ValidationFailed, rename: Callable[[str], str] | None = None
) -> None:
    """Undo whatever the service left half-changed, then show its field errors on the form."""
    db.session.rollback()
    for name, raw in exc.fields.items():
        messages = [raw] if isinstance(raw, str) else [str(m) for m in raw]
        field = form._fields.get(rename(name) if rename else name)
        if field is None or field.type == "CSRFTokenField":
            form.form_errors.extend(messages)
        else:
            field.errors = [*field.errors, *messages]


def _page(template: str, **context: Any):
    """Render a page: a POST that gets here was refused, so it answers 400."""
    return render_template(template, **context), (400 if request.method == "POST" else 200)


@bp.app_context_processor
def _permissions() -> dict[str, Any]:
    """Give templates the access checks (never a copy of their rules) to choose what to show."""
    return {
        "can": can,
        "Access": CohortAccess,
        "may_manage_staff": lambda: _allowed(access_staff, current_user),
        "may_create_program": lambda: _allowed(access_new_program, current_user),
        "may_manage_program": lambda p: _allowed(access_program, current_user, p, manage=True),
        "may_start_cohort": lambda p: _allowed(access_new_cohort, current_user, p),
        "kind_labels": forms.KIND_LABELS,
        "status_labels": forms.STATUS_LABELS,
    }


@bp.app_template_filter("local_datetime")
def local_datetime(value: datetime | None, tz_name: str) -> str:
    """Show a UTC moment as the cohort's wall clock, with the zone's abbreviation."""
    if value is None:
        return "not set"
    local = value.astimezone(ZoneInfo(tz_name))
    return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M} {local.tzname()}"


@bp.app_template_filter("long_date")
def long_date(value: date) -> str:
    return f"{value:%a} {value.day} {value:%b %Y}"


@bp.app_template_filter("clock")
def clock(value: time) -> str:
    return f"{value:%H:%M}"


@bp.app_template_filter("weekday_name")
def weekday_name(value: int) -> str:
    return WEEKDAYS[value]


# --- home --------------------------------------------------------------------------------------


@bp.get("/")
@login_required
def home():
    """Show the signed-in staff member their cohorts, each with its next session, and programs."""
    me = _me()
    cohorts = services.list_cohorts(me)
    upcoming = {c.id: services.find_next_group_session(me, c.id) for c in cohorts}
    return render_template(
        "home.html", cohorts=cohorts, upcoming=upcoming, programs=services.list_programs(me)
    )


# --- programs and their ladder -----------------------------------------------------------------


@bp.get("/programs")
@login_required
def programs():
    """List the programs the staff member may see."""
    return render_template("programs/list.html", programs=services.list_programs(_me()))


@bp.route("/programs/new", methods=["GET", "POST"])
@login_required
def program_new():
    """Create a program (admins)."""
    me = _me()
    access_new_program(me)
    form = forms.ProgramForm(cycle_length=8, min_group_size=5, retention_days=365)
    form.set_coordinators(services.list_staff_choices(me, Role.COORDINATOR))
    if form.validate_on_submit():
        try:
            program = services.create_program(me, **form.values())
        except ValidationFailed as exc:
            _invalid(form, exc)
        else:
            flash(
                _(
                    "Program “%(name)s” created. Add the first rung of its ladder.",
                    name=program.name,
                ),
                "success",
            )
            return redirect(url_for("pages.program", program_id=program.id))
    return _page("programs/form.html", form=form, program=None)


@bp.get("/programs/<int:program_id>")
@login_required
def program(program_id: int):
    """Show a program: settings, its ladder of session plans, instruments and cohorts."""
    me = _me()
    program = services.get_program(me, program_id)
    cohorts = services.list_cohorts(me, program_id=program.id)
    return render_template("programs/detail.html", program=program, cohorts=cohorts)


@bp.route("/programs/<int:program_id>/edit", methods=["GET", "POST"])
@login_required
def program_edit(program_id: int):
    """Change a program's settings and coordinators (admins)."""
    me = _me()
    program = access_program(me, services.get_program(me, program_id), manage=True)
    form = forms.ProgramForm(obj=program, coordinator_ids=[c.id for c in program.coordinators])
    form.set_coordinators(services.list_staff_choices(me, Role.COORDINATOR), program.coordinators)
    if form.validate_on_submit():
        try:
            services.update_program(me, program.id, **form.values())
        except ValidationFailed as exc:
            _invalid(form, exc)
        else:
            flash(_("Program saved."), "success")
            return redirect(url_for("pages.program", program_id=program.id))
    return _page("programs/form.html", form=form, program=program)


@bp.route("/programs/<int:program_id>/plans/new", methods=["GET", "POST"])
@login_required
def plan_new(program_id: int):
    """Add a rung at the top of a program's ladder (admins)."""
    me = _me()
    program = access_program(me, services.get_program(me, program_id), manage=True)
    form = forms.SessionPlanForm()
    if form.validate_on_submit():
        try:
            plan = services.add_session_plan(
                me, program.id, title=form.title.data, goal=form.goal.data or ""
            )
        except ValidationFailed as exc:
            _invalid(form, exc)
        else:
            flash(_("Rung %(n)s added.", n=plan.rung), "success")
            return redirect(
                url_for("pages.program", program_id=program.id, _anchor=f"plan-{plan.id}")
            )
    return _page("programs/plan_form.html", form=form, program=program, plan=None)


@bp.route("/plans/<int:plan_id>/edit", methods=["GET", "POST"])
@login_required
def plan_edit(plan_id: int):
    """Rename a rung or change its goal (admins)."""
    me = _me()
    plan = services.get_session_plan(me, plan_id)
    access_program(me, plan.program, manage=True)
    form = forms.SessionPlanForm(obj=plan)
    if form.validate_on_submit():
        try:
            services.update_session_plan(
                me, plan.id, title=form.title.data, goal=form.goal.data or ""
            )
        except ValidationFailed as exc:
            _invalid(form, exc)
        else:
            flash(_("Session plan saved."), "success")
            return redirect(
                url_for("pages.program", program_id=plan.program_id, _anchor=f"plan-{plan.id}")
            )
    return _page("programs/plan_form.html", form=form, program=plan.program, plan=plan)


@bp.route("/programs/<int:program_id>/instruments/new", methods=["GET", "POST"])
@login_required
def instrument_new(program_id: int):
    """Add a questionnaire of the program's own, as a JSON document (admins)."""
    me = _me()
    program = access_program(me, services.get_program(me, program_id), manage=True)
    form = forms.InstrumentForm()
    if form.validate_on_submit():
        try:
            document = json.loads(form.document.data)
        except ValueError as exc:
            form.document.errors = [*form.document.errors, f"This is not valid JSON: {exc}."]
        else:
            try:
                instrument = services.add_instrument(me, program.id, document)
            except (ValidationFailed, Conflict) as exc:
                db.session.rollback()
                form.document.errors = [
                    *form.document.errors,
                    *(f"{name}: {m}" for name, ms in exc.fields.items() for m in ms),
                ] or [exc.message]
            else:
                flash(
                    _("“%(name)s” added to the program's instruments.", name=instrument.name),
                    "success",
                )
                return redirect(
                    url_for("pages.program", program_id=program.id, _anchor="instruments")
                )
    example = json.dumps(INSTRUMENT_EXAMPLE, indent=2, ensure_ascii=False)
    return _page("programs/instrument_form.html", form=form, program=program, example=example)


def _activity_field(name: str) -> str:
    return "instrument" if name == "config.instrument" else name


@bp.route("/plans/<int:plan_id>/activities/new", methods=["GET", "POST"])
@login_required
def activity_new(plan_id: int):
    """Append an activity to a session plan's agenda (admins)."""
    me = _me()
    plan = services.get_session_plan(me, plan_id)
    access_program(me, plan.program, manage=True)
    form = forms.ActivityForm()
    form.set_instruments(plan.program.instruments)
    if form.validate_on_submit():
        try:
            services.add_activity(me, plan.id, **form.values())
        except ValidationFailed as exc:
            _invalid(form, exc, _activity_field)
        else:
            flash(_("Activity added."), "success")
            return redirect(
                url_for("pages.program", program_id=plan.program_id, _anchor=f"plan-{plan.id}")
            )
    return _page("programs/activity_form.html", form=form, plan=plan, activity=None)


@bp.route("/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@login_required
def activity_edit(activity_id: int):
    """Change an activity of a session plan (admins)."""
    me = _me()
    activity = services.get_activity(me, activity_id)
    access_program(me, activity.plan.program, manage=True)
    form = forms.ActivityForm(obj=activity, instrument=(activity.config or {}).get("instrument"))
    form.set_instruments(activity.plan.program.instruments)
    if form.validate_on_submit():
        try:
            services.update_activity(me, activity.id, **form.values())
        except ValidationFailed as exc:
            _invalid(form, exc, _activity_field)
        else:
            flash(_("Activity saved."), "success")
            return redirect(
                url_for(
                    "pages.program",
                    program_id=activity.plan.program_id,
                    _anchor=f"plan-{activity.plan_id}",
                )
            )
    return _page("programs/activity_form.html", form=form, plan=activity.plan, activity=activity)


@bp.route("/activities/<int:activity_id>/remove", methods=["GET", "POST"])
@login_required
def activity_remove(activity_id: int):
    """Ask, then remove an activity from its plan (admins)."""
    me = _me()
    activity = services.get_activity(me, activity_id)
    access_program(me, activity.plan.program, manage=True)
    plan = activity.plan
    form = forms.ConfirmForm()
    if form.validate_on_submit():
        services.remove_activity(me, activity.id)
        flash(_("Activity removed."), "success")
        return redirect(
            url_for("pages.program", program_id=plan.program_id, _anchor=f"plan-{plan.id}")
        )
    return _page("programs/activity_remove.html", form=form, activity=activity, plan=plan)


# --- cohorts and rosters -----------------------------------------------------------------------


@bp.get("/cohorts")
@login_required
def cohorts():
    """List the cohorts the staff member may see, and where they may start one."""
    me = _me()
    return render_template(
        "cohorts/list.html", cohorts=services.list_cohorts(me), programs=services.list_programs(me)
    )


@bp.route("/programs/<int:program_id>/cohorts/new", methods=["GET", "POST"])
@login_required
def cohort_new(program_id: int):
    """Create a cohort of a program and its weekly sessions (admins, the program's coordinators)."""
    me = _me()
    program = access_new_cohort(me, services.get_program(me, program_id))
    form = forms.CohortCreateForm(session_count=program.cycle_length, language=program.language)
    form.set_facilitators(services.list_staff_choices(me, Role.FACILITATOR))
    if form.validate_on_submit():
        try:
            cohort = services.create_cohort(me, program.id, **form.values())
        except ValidationFailed as exc:
            _invalid(form, exc)
        else:
            flash(
                _(
                    "Cohort “%(name)s” created with %(n)s sessions.",
                    name=cohort.name,
                    n=cohort.session_count,
                ),
                "success",
            )
            return redirect(url_for("pages.cohort", cohort_id=cohort.id))
    return _page("cohorts/new.html", form=form, program=program)


@bp.get("/cohorts/<int:cohort_id>")
@login_required
def cohort(cohort_id: int):
    """Show a cohort: schedule, staff, sessions, and the roster only to those who may see names."""
    me = _me()
    cohort, members = services.get_cohort_and_roster(me, cohort_id)
    member_count = services.count_members(me, cohort.id) if members is None else None
    return render_template(
        "cohorts/detail.html",
        cohort=cohort,
        members=members,
        member_count=member_count,
        member_form=forms.MemberForm(),
    )


@bp.route("/cohorts/<int:cohort_id>/edit", methods=["GET", "POST"])
@login_required
def cohort_edit(cohort_id: int):
    """Rename a cohort, change its status, language or facilitators."""
    me = _me()
    cohort = services.get_cohort(me, cohort_id, CohortAccess.MANAGE)
    form = forms.CohortEditForm(obj=cohort, facilitator_ids=[f.id for f in cohort.facilitators])
    form.set_facilitators(services.list_staff_choices(me, Role.FACILITATOR), cohort.facilitators)
    if form.validate_on_submit():
        try:
            services.update_cohort(me, cohort.id, **form.values())
        except ValidationFailed as exc:
            _invalid(form, exc)
        else:
            flash(_("Cohort saved."), "success")
            return redirect(url_for("pages.cohort", cohort_id=cohort.id))
    return _page("cohorts/edit.html", form=form, cohort=cohort)


@bp.route("/cohorts/<int:cohort_id>/members/new", methods=["GET", "POST"])
@login_required
def member_new(cohort_id: int):
    """Add a participant to the roster under a pseudonymous display name."""
    me = _me()
    cohort = services.get_cohort(me, cohort_id, CohortAccess.RUN)
    form = forms.MemberForm()
    if form.validate_on_submit():
        try:
            member = services.add_member(me, cohort.id, display_name=form.display_name.data)
        except ValidationFailed as exc:
            _invalid(form, exc)
        else:
            flash(_("%(name)s added to the roster.", name=member.display_name), "success")
            return redirect(url_for("pages.cohort", cohort_id=cohort.id, _anchor="roster"))
    return _page("cohorts/member_new.html", form=form, cohort=cohort)


@bp.route("/members/<int:member_id>/edit", methods=["GET", "POST"])
@login_required
def member_edit(member_id: int):
    """Rename a member, or mark them as having left (or back)."""
    me = _me()
    member = services.get_member(me, member_id)
    form = forms.MemberEditForm(obj=member)
    if form.validate_on_submit():
        try:
            services.update_member(
                me, member.id, display_name=form.display_name.data, status=form.status.data
            )
        except ValidationFailed as exc:
            _invalid(form, exc)
        else:
            flash(_("Member saved."), "success")
            return redirect(url_for("pages.cohort", cohort_id=member.cohort_id, _anchor="roster"))
    return _page("cohorts/member_edit.html", form=form, member=member)


@bp.post("/members/<int:member_id>/status")
@login_required
def member_status(member_id: int):
    """Mark a member as having left, or as active again, from their roster row."""
    me = _me()
    member = services.get_member(me, member_id)
    form = forms.MemberStatusForm()
    if form.validate_on_submit():
        try:
            member = services.update_member(me, member.id, status=form.status.data)
        except ValidationFailed as exc:
            edit = forms.MemberEditForm(obj=member)
            _invalid(edit, exc)
            return _page("cohorts/member_edit.html", form=edit, member=member)
        name = member.display_name
        if member.status == "left":
            flash(_("%(name)s has left.", name=name), "success")
        else:
            flash(_("%(name)s is active again.", name=name), "success")
        return redirect(url_for("pages.cohort", cohort_id=member.cohort_id, _anchor="roster"))
    return _page("cohorts/member_edit.html", form=forms.MemberEditForm(obj=member), member=member)


@bp.route("/members/<int:member_id>/delete", methods=["GET", "POST"])
@login_required
def member_delete(member_id: int):
    """Ask, then delete a member and their attendance (on their request)."""
    me = _me()
    member = services.get_member(me, member_id)
    cohort_id, name = member.cohort_id, member.display_name
    form = forms.ConfirmForm()
    if form.validate_on_submit():
        services.remove_member(me, member.id)
        flash(_("%(name)s and their attendance were deleted.", name=name), "success")
        return redirect(url_for("pages.cohort", cohort_id=cohort_id, _anchor="roster"))
    return _page("cohorts/member_delete.html", form=form, member=member)


# --- group sessions and attendance -------------------------------------------------------------


def _plan_form(group_session) -> forms.SessionPlanChoiceForm:
    form = forms.SessionPlanChoiceForm(plan_id=group_session.plan_id)
    form.set_plans(group_session.cohort.program.plans)
    return form


@bp.get("/sessions/<int:session_id>")
@login_required
def group_session(session_id: int):
    """Show one group session: when, its state, and its rung of the ladder."""
    group_session = services.get_group_session(_me(), session_id)
    return render_template(
        "sessions/detail.html", group_session=group_session, form=_plan_form(group_session)
    )


@bp.post("/sessions/<int:session_id>/plan")
@login_required
def group_session_plan(session_id: int):
    """Give a session another rung of the ladder (to repeat a shaky one, say)."""
    me = _me()
    group_session = services.get_group_session(me, session_id)
    form = _plan_form(group_session)
    if form.validate_on_submit():
        try:
            services.update_group_session(me, group_session.id, plan_id=form.plan_id.data)
        except ValidationFailed as exc:
            _invalid(form, exc)
        else:
            flash(_("Session plan changed."), "success")
            return redirect(url_for("pages.group_session", session_id=group_session.id))
    return _page("sessions/detail.html", group_session=group_session, form=form)


@bp.route("/sessions/<int:session_id>/attendance", methods=["GET", "POST"])
@login_required
def attendance(session_id: int):
    """Show and save one session's attendance sheet, all rows at once or none."""
    me = _me()
    group_session, rows = services.attendance_sheet(me, session_id)
    form = forms.attendance_form(rows)
    if form.validate_on_submit():
        try:
            services.record_attendance(me, group_session.id, forms.attendance_marks(form, rows))
        except ValidationFailed as exc:
            _invalid(form, exc, rename=lambda n: forms.attendance_field_name(n.split(".")[-1]))
        else:
            flash(_("Attendance saved."), "success")
            return redirect(url_for("pages.attendance", session_id=group_session.id))
    return _page("sessions/attendance.html", group_session=group_session, rows=rows, form=form)


# --- staff -------------------------------------------------------------------------------------


@bp.get("/staff")
@login_required
def staff():
    """List staff accounts (admins)."""
    return render_template("staff/list.html", users=services.list_users(_me()))


@bp.route("/staff/new", methods=["GET", "POST"])
@login_required
def staff_new():
    """Create a staff account (admins)."""
    me = _me()
    access_staff(me)
    form = forms.StaffCreateForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(
                me,
                email=form.email.data,
                display_name=form.display_name.data,
                role=form.role.data,
                password=form.password.data,
            )
        except ValidationFailed as exc:
            _invalid(form, exc)
        else:
            flash(_("Account for %(name)s created.", name=user.display_name), "success")
            return redirect(url_for("pages.staff"))
    return _page("staff/form.html", form=form, user=None)


@bp.route("/staff/<int:user_id>/edit", methods=["GET", "POST"])
@login_required
def staff_edit(user_id: int):
    """Change a staff account: name, role, active, password (admins)."""
    me = _me()
    user = services.get_user(me, user_id)
    form = forms.StaffEditForm(obj=user)
    if form.validate_on_submit():
        try:
            services.update_user(
                me,
                user.id,
                display_name=form.display_name.data,
                role=form.role.data,
                active=bool(form.active.data),
                password=form.password.data,
            )
        except ValidationFailed as exc:
            _invalid(form, exc)
        else:
            flash(_("Account of %(name)s saved.", name=user.display_name), "success")
            return redirect(url_for("pages.staff"))
    return _page("staff/form.html", form=form, user=user)
