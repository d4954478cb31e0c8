"""Own the outcome pages and their CSV exports: a session's summary, a cohort's cycle, a program."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from flask import Blueprint, Response, render_template
from flask_login import current_user, login_required

from facilitation import charts, outcomes

bp = Blueprint("outcomes", __name__)


def _me():
    return current_user._get_current_object()


def _csv(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@bp.app_template_global("may_compare_cohorts")
def may_compare_cohorts(program) -> bool:
    """Whether to link the program page to its cohort comparison."""
    return outcomes.may_compare(_me(), program)


@bp.app_template_global("chart_trend")
def chart_trend(series, measure=None, **kwargs):
    """Draw a trend from figure views ({"number", "published", measure: {"mean", "lo", "hi"}})."""
    points = []
    for view in series:
        m = view.get(measure) if measure else view
        label = view.get("label") or f"S{view['number']}"
        if view.get("published") and isinstance(m, dict) and m.get("mean") is not None:
            points.append(charts.Point(label, m["mean"], m.get("lo"), m.get("hi")))
        else:
            points.append(charts.Point(label))
    return charts.trend(points, **kwargs)


@bp.app_template_global("chart_bars")
def chart_bars(counts, labels, **kwargs):
    return charts.bars(counts, labels, **kwargs)


@bp.app_template_global("chart_forest")
def chart_forest(rows, **kwargs):
    return charts.forest([charts.Point(*row) for row in rows], **kwargs)


@bp.get("/sessions/<int:session_id>/summary")
@login_required
def session_summary(session_id: int):
    """After a session: what the facilitator may bring to the group next week."""
    summary = outcomes.session_summary(_me(), session_id)
    return render_template("outcomes/session.html", s=summary)


@bp.get("/sessions/<int:session_id>/summary.csv")
@login_required
def session_summary_csv(session_id: int):
    """The session summary's figures as CSV (logged)."""
    me = _me()
    summary = outcomes.session_summary(me, session_id)
    outcomes.log_export(me, "session_summary", "group_session", session_id)
    rows = outcomes.session_summary_rows(summary)
    return _csv(f"session-{session_id}-summary.csv", outcomes.CSV_HEADER, rows)


@bp.get("/cohorts/<int:cohort_id>/outcomes")
@login_required
def cohort_outcomes(cohort_id: int):
    """The facilitator's view of the whole cycle."""
    overview = outcomes.cohort_overview(_me(), cohort_id)
    return render_template("outcomes/cohort.html", o=overview)


@bp.get("/cohorts/<int:cohort_id>/outcomes.csv")
@login_required
def cohort_outcomes_csv(cohort_id: int):
    """The cohort's aggregate figures as CSV (logged)."""
    me = _me()
    overview = outcomes.cohort_overview(me, cohort_id)
    outcomes.log_export(me, "cohort_outcomes", "cohort", cohort_id)
    rows = outcomes.cohort_overview_rows(overview)
    return _csv(f"cohort-{cohort_id}-outcomes.csv", outcomes.CSV_HEADER, rows)


@bp.get("/cohorts/<int:cohort_id>/attendance.csv")
@login_required
def cohort_attendance_csv(cohort_id: int):
    """The attendance sheet across the cycle, one row per member (facilitators; logged)."""
    me = _me()
    overview = outcomes.cohort_overview(me, cohort_id)
    outcomes.log_export(me, "attendance_sheet", "cohort", cohort_id)
    header, rows = outcomes.attendance_rows(overview)
    return _csv(f"cohort-{cohort_id}-attendance.csv", header, rows)


@bp.get("/programs/<int:program_id>/outcomes")
@login_required
def program_outcomes(program_id: int):
    """The coordinator's comparison of a program's cohorts, in aggregate only."""
    comparison = outcomes.program_comparison(_me(), program_id)
    return render_template("outcomes/program.html", c=comparison)


@bp.get("/programs/<int:program_id>/outcomes.csv")
@login_required
def program_outcomes_csv(program_id: int):
    """The comparison as CSV: suppressed aggregates only (logged)."""
    me = _me()
    comparison = outcomes.program_comparison(me, program_id)
    outcomes.log_export(me, "program_outcomes", "program", program_id)
    rows = outcomes.program_comparison_rows(comparison)
    return _csv(f"program-{program_id}-outcomes.csv", outcomes.PROGRAM_CSV_HEADER, rows)
