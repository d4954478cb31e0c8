"""Own the staff page forms: they parse what a page posts; the services judge it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from groups.models import (
    ActivityKind,
    Attendance,
    AttendanceStatus,
    CohortStatus,
    Member,
    MemberStatus,
    Role,
    SessionPlan,
    User,
)

# Domain rules (lengths, ranges, uniqueness) live in groups.services; these forms only parse,
# so a page and the API give the same answer to the same input.
# _ is lazy_gettext here: labels are made once at import and translated each time they are shown.

LANGUAGE_CHOICES = [SelectChoice("en", "English"), SelectChoice("es", "Español")]
ROLE_CHOICES = [SelectChoice(r.value, r.value.capitalize()) for r in Role]
KIND_LABELS = {
    ActivityKind.CHECK_IN: _("Check-in"),
    ActivityKind.PROMPT: _("Shared-activity prompt"),
    ActivityKind.APPRECIATION: _("Appreciation round"),
    ActivityKind.DYADS: _("Dyads"),
    ActivityKind.CHECK_OUT: _("Check-out"),
    ActivityKind.QUESTIONNAIRE: _("Questionnaire"),
}
INTENSITY_CHOICES = [
    SelectChoice(1, _("1 (gentlest)")),
    SelectChoice(2, "2"),
    SelectChoice(3, "3"),
    SelectChoice(4, "4"),
    SelectChoice(5, _("5 (most intense)")),
]
STATUS_LABELS = {
    AttendanceStatus.PRESENT: _("Present"),
    AttendanceStatus.LATE: _("Late"),
    AttendanceStatus.ABSENT: _("Absent"),
    AttendanceStatus.EXCUSED: _("Excused"),
}


@lru_cache(maxsize=1)
def timezone_choices() -> list[SelectChoice]:
    """List the IANA zones a person would pick (Area/City), with UTC first."""
    names = sorted(
        n
        for n in available_timezones()
        if "/" in n and not n.startswith(("Etc/", "posix/", "right/", "SystemV/", "US/"))
    )
    return [SelectChoice("UTC"), *(SelectChoice(n, n.replace("_", " ")) for n in names)]


class MultiCheckboxField(SelectMultipleField):
    """Choose several from a short list with checkboxes (a multi-select is hard on a phone)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _staff_choices(users: Iterable[User], current: Iterable[User] = ()) -> list[SelectChoice]:
    """Offer active staff plus whoever is assigned now, so saving never drops someone silently."""
    seen: dict[int, str] = {}
    for user in [*users, *current]:
        name = user.display_name
        label = name if user.active else str(_("%(name)s (inactive)", name=name))
        seen.setdefault(user.id, label)
    ordered = sorted(seen.items(), key=lambda item: item[1].casefold())
    return [SelectChoice(user_id, label) for user_id, label in ordered]


def _int_or_none(value: Any) -> int | None:
    if value in (None, "", "None"):
        return None
    return int(value)


def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value


# --- programs and their ladder -----------------------------------------------------------------


class ProgramForm(FlaskForm):
    name = StringField(_("Name"))
    description = TextAreaField(_("Description"))
    cycle_length = IntegerField(_("Sessions per cycle"), validators=[InputRequired()])
    min_group_size = IntegerField(
        _("Smallest group for anonymous figures (k)"), validators=[InputRequired()]
    )
    retention_days = IntegerField(_("Keep raw answers for (days)"), validators=[InputRequired()])
    allow_guests = BooleanField(_("Guests may join from their phone without being on the roster"))
    language = SelectField(_("Language"), choices=LANGUAGE_CHOICES)
    consent_text = TextAreaField(_("Consent text"))
    coordinator_ids = MultiCheckboxField(_("Coordinators"), coerce=int)

    def set_coordinators(self, users: Sequence[User], current: Sequence[User] = ()) -> None:
        self.coordinator_ids.choices = _staff_choices(users, current)

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name.data,
            "description": self.description.data or "",
            "cycle_length": self.cycle_length.data,
            "min_group_size": self.min_group_size.data,
            "retention_days": self.retention_days.data,
            "allow_guests": bool(self.allow_guests.data),
            "language": self.language.data,
            "consent_text": self.consent_text.data or "",
            "coordinator_ids": list(self.coordinator_ids.data or []),
        }


class SessionPlanForm(FlaskForm):
    title = StringField(_("Title"))
    goal = TextAreaField(_("Goal"))


class ActivityForm(FlaskForm):
    kind = SelectField(
        _("Kind"),
        choices=[SelectChoice(k.value, label) for k, label in KIND_LABELS.items()],
        default="prompt",
    )
    title = StringField(_("Title"))
    text = TextAreaField(_("Text shown to the group"))
    preview = TextAreaField(_("Preview (what people read before they choose to join in)"))
    intensity = SelectField(_("Intensity rung"), choices=INTENSITY_CHOICES, coerce=int, default=1)
    timer_seconds = IntegerField(_("Timer in seconds"), validators=[Optional()])
    instrument = SelectField(_("Questionnaire"), choices=[], validate_choice=False)

    def set_instruments(self, instruments: Sequence[Any]) -> None:
        """Offer the program's questionnaires, for an activity of the questionnaire kind."""
        self.instrument.choices = [
            SelectChoice(i.key, i.name) for i in instruments if i.kind == "questionnaire"
        ]

    def values(self) -> dict[str, Any]:
        out = {
            "kind": self.kind.data,
            "title": self.title.data,
            "text": self.text.data or "",
            "preview": self.preview.data or "",
            "intensity": self.intensity.data,
            "timer_seconds": self.timer_seconds.data,
        }
        if self.kind.data == "questionnaire":
            out["config"] = {"instrument": self.instrument.data}
        return out


class InstrumentForm(FlaskForm):
    document = TextAreaField(_("Instrument (JSON)"), validators=[InputRequired()])


# --- cohorts and rosters -----------------------------------------------------------------------


class CohortCreateForm(FlaskForm):
    name = StringField(_("Name"))
    start_date = DateField(_("Date of the first session"), validators=[InputRequired()])
    meeting_time = TimeField(
        _("Meeting time"), format=["%H:%M", "%H:%M:%S"], validators=[InputRequired()]
    )
    timezone = SelectField(_("Time zone"), choices=timezone_choices, default="UTC")
    session_count = IntegerField(_("Number of sessions"), validators=[InputRequired()])
    duration_minutes = IntegerField(
        _("Length of a session (minutes)"), default=90, validators=[InputRequired()]
    )
    language = SelectField(_("Language"), choices=LANGUAGE_CHOICES)
    facilitator_ids = MultiCheckboxField(_("Facilitators"), coerce=int)

    def set_facilitators(self, users: Sequence[User], current: Sequence[User] = ()) -> None:
        self.facilitator_ids.choices = _staff_choices(users, current)

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name.data,
            "start_date": self.start_date.data,
            "meeting_time": self.meeting_time.data,
            "timezone": self.timezone.data,
            "session_count": self.session_count.data,
            "duration_minutes": self.duration_minutes.data,
            "language": self.language.data,
            "facilitator_ids": list(self.facilitator_ids.data or []),
        }


class CohortEditForm(FlaskForm):
    name = StringField(_("Name"))
    status = SelectField(
        _("Status"), choices=[SelectChoice(s.value, s.value.capitalize()) for s in CohortStatus]
    )
    language = SelectField(_("Language"), choices=LANGUAGE_CHOICES)
    facilitator_ids = MultiCheckboxField(_("Facilitators"), coerce=int)

    def set_facilitators(self, users: Sequence[User], current: Sequence[User] = ()) -> None:
        self.facilitator_ids.choices = _staff_choices(users, current)

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name.data,
            "status": self.status.data,
            "language": self.language.data,
            "facilitator_ids": list(self.facilitator_ids.data or []),
        }


class MemberForm(FlaskForm):
    display_name = StringField(_("Display name"))


class MemberEditForm(FlaskForm):
    display_name = StringField(_("Display name"))
    status = RadioField(
        _("Status"),
        choices=[
            SelectChoice(MemberStatus.ACTIVE.value, _("Active")),
            SelectChoice(MemberStatus.LEFT.value, _("Has left")),
        ],
    )


class MemberStatusForm(FlaskForm):
    """The one-button "mark as left / back" form on a roster row."""

    status = StringField(_("Status"))


class ConfirmForm(FlaskForm):
    """A POST that needs nothing but its CSRF token (deleting, removing)."""


# --- group sessions and attendance -------------------------------------------------------------


class SessionPlanChoiceForm(FlaskForm):
    plan_id = SelectField(_("Rung of the ladder"), coerce=_int_or_none)

    def set_plans(self, plans: Sequence[SessionPlan]) -> None:
        self.plan_id.choices = [
            SelectChoice(None, _("No plan")),
            *(
                SelectChoice(p.id, str(_("Rung %(n)s: %(title)s", n=p.rung, title=p.title)))
                for p in plans
            ),
        ]


def attendance_field_name(member_id: int) -> str:
    return f"member_{member_id}"


def attendance_form(rows: Sequence[tuple[Member, Attendance | None]], **kwargs: Any) -> FlaskForm:
    """Build a form with one radio group per member on the sheet; unmarked rows stay empty."""

    class AttendanceForm(FlaskForm):
        pass

    for member, mark in rows:
        setattr(
            AttendanceForm,
            attendance_field_name(member.id),
            RadioField(
                member.display_name,
                choices=[SelectChoice(s.value, label) for s, label in STATUS_LABELS.items()],
                default=mark.status.value if mark else None,
                validators=[Optional()],
            ),
        )
    return AttendanceForm(**kwargs)


def attendance_marks(
    form: FlaskForm, rows: Sequence[tuple[Member, Attendance | None]]
) -> dict[int, str]:
    """Read the marked rows of an attendance form as {member_id: status}."""
    marks = {}
    for member, _mark in rows:
        value = form[attendance_field_name(member.id)].data
        if value:
            marks[member.id] = value
    return marks


# --- staff -------------------------------------------------------------------------------------


class StaffCreateForm(FlaskForm):
    email = EmailField(_("Email"))
    display_name = StringField(_("Display name"))
    role = SelectField(_("Role"), choices=ROLE_CHOICES, default=Role.FACILITATOR.value)
    password = PasswordField(_("Password"))


class StaffEditForm(FlaskForm):
    display_name = StringField(_("Display name"))
    role = SelectField(_("Role"), choices=ROLE_CHOICES)
    active = BooleanField(_("Account is active (may sign in)"))
    password = PasswordField(_("New password"), filters=[_blank_to_none])
