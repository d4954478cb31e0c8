"""Own the server-drawn SVG charts of the outcome pages: no script, no inline style.

Each function returns markup for one <svg role="img"> with a <title> and <desc>; the page puts
a data table beside it for screen readers. Colours come from classes (static/css/hearth.css)
with presentation attributes as a fallback, because the CSP forbids style="" attributes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 560, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 40


@dataclass(frozen=True)
class Point:
    """One x position of a trend: its label and, when published, its estimate and interval."""

    label: str
    mean: float | None = None
    lo: float | None = None
    hi: float | None = None


def _svg(title: str, desc: str, body: list[str], width: int = WIDTH, height: int = HEIGHT):
    # Every text in body and here went through escape(); the rest are numbers we formatted.
    return Markup(  # noqa: S704
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'preserveAspectRatio="xMidYMid meet" focusable="false">'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>{''.join(body)}</svg>"
    )


def _fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.0f}"


def trend(
    points: Sequence[Point], *, y_min: float, y_max: float, title: str, desc: str, ticks: int = 4
) -> Markup:
    """A line of means with 95% intervals as bars; a withheld point is a gap marked with a dash."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span = (y_max - y_min) or 1.0
    step = plot_w / max(len(points), 1)

    def y(v: float) -> float:
        return TOP + plot_h * (1 - (min(max(v, y_min), y_max) - y_min) / span)

    body = [
        f'<line class="chart-axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" '
        f'y2="{TOP + plot_h}" stroke="currentColor"/>'
    ]
    for i in range(ticks + 1):
        value = y_min + span * i / ticks
        body.append(
            f'<line class="chart-grid" x1="{LEFT}" y1="{y(value):.1f}" x2="{WIDTH - RIGHT}" '
            f'y2="{y(value):.1f}" stroke="#d9cfc4" stroke-width="0.5"/>'
            f'<text class="chart-label" x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" '
            f'font-size="12" fill="currentColor">{_fmt(value)}</text>'
        )
    path: list[str] = []
    for index, point in enumerate(points):
        x = LEFT + step * (index + 0.5)
        body.append(
            f'<text class="chart-label" x="{x:.1f}" y="{HEIGHT - BOTTOM + 18}" '
            f'text-anchor="middle" font-size="12" fill="currentColor">{escape(point.label)}</text>'
        )
        if point.mean is None:
            path.append("")
            body.append(
                f'<text class="chart-missing" x="{x:.1f}" y="{TOP + plot_h - 6}" '
                f'text-anchor="middle" font-size="14" fill="#5b5249">–</text>'
            )
            continue
        if point.lo is not None and point.hi is not None:
            body.append(
                f'<line class="chart-band" x1="{x:.1f}" y1="{y(point.lo):.1f}" x2="{x:.1f}" '
                f'y2="{y(point.hi):.1f}" stroke="#d9a27f" stroke-width="6" '
                f'stroke-linecap="round"/>'
            )
        path.append(f"{x:.1f},{y(point.mean):.1f}")
        body.append(
            f'<circle class="chart-dot" cx="{x:.1f}" cy="{y(point.mean):.1f}" r="5" '
            f'fill="#8a3b12"/>'
        )
    # Join only neighbours that are both shown: a gap stays a gap, nothing is carried forward.
    for a, b in zip(path, path[1:], strict=False):
        if a and b:
            body.insert(
                1,
                f'<polyline class="chart-line" points="{a} {b}" fill="none" stroke="#8a3b12" '
                f'stroke-width="2"/>',
            )
    return _svg(title, desc, body)


def bars(counts: Sequence[int], labels: Sequence[str], *, title: str, desc: str) -> Markup:
    """A small column chart of counts (a distribution), labelled under each column."""
    width, height = 320, 150
    top, bottom, left = 10, 34, 8
    plot_h = height - top - bottom
    step = (width - 2 * left) / max(len(counts), 1)
    peak = max(counts) if counts and max(counts) > 0 else 1
    body = []
    for index, (count, label) in enumerate(zip(counts, labels, strict=True)):
        h = plot_h * count / peak
        x = left + step * index
        body.append(
            f'<rect class="chart-bar" x="{x + 3:.1f}" y="{top + plot_h - h:.1f}" '
            f'width="{step - 6:.1f}" height="{h:.1f}" fill="#8a3b12"/>'
            f'<text class="chart-label" x="{x + step / 2:.1f}" y="{top + plot_h - h - 3:.1f}" '
            f'text-anchor="middle" font-size="11" fill="currentColor">{count}</text>'
            f'<text class="chart-label" x="{x + step / 2:.1f}" y="{height - bottom + 16}" '
            f'text-anchor="middle" font-size="11" fill="currentColor">{escape(label)}</text>'
        )
    return _svg(title, desc, body, width, height)


def forest(rows: Sequence[Point], *, x_min: float, x_max: float, title: str, desc: str) -> Markup:
    """One row per cohort: a dot at the estimate and a bar for its 95% interval."""
    row_h, left, right = 34, 170, 20
    height = row_h * max(len(rows), 1) + 30
    plot_w = WIDTH - left - right
    span = (x_max - x_min) or 1.0

    def x(v: float) -> float:
        return left + plot_w * (min(max(v, x_min), x_max) - x_min) / span

    body = []
    if x_min < 0 < x_max:
        body.append(
            f'<line class="chart-axis" x1="{x(0):.1f}" y1="4" x2="{x(0):.1f}" '
            f'y2="{height - 26}" stroke="currentColor" stroke-dasharray="3 3"/>'
        )
    for index, row in enumerate(rows):
        cy = 18 + row_h * index
        body.append(
            f'<text class="chart-label" x="{left - 8}" y="{cy + 4}" text-anchor="end" '
            f'font-size="12" fill="currentColor">{escape(row.label)}</text>'
        )
        if row.mean is None:
            body.append(
                f'<text class="chart-missing" x="{left + 4}" y="{cy + 4}" font-size="12" '
                f'fill="#5b5249">withheld</text>'
            )
            continue
        if row.lo is not None and row.hi is not None:
            body.append(
                f'<line class="chart-band" x1="{x(row.lo):.1f}" y1="{cy}" x2="{x(row.hi):.1f}" '
                f'y2="{cy}" stroke="#d9a27f" stroke-width="6" stroke-linecap="round"/>'
            )
        body.append(
            f'<circle class="chart-dot" cx="{x(row.mean):.1f}" cy="{cy}" r="5" fill="#8a3b12"/>'
        )
    for value in (x_min, (x_min + x_max) / 2, x_max):
        body.append(
            f'<text class="chart-label" x="{x(value):.1f}" y="{height - 8}" text-anchor="middle" '
            f'font-size="11" fill="currentColor">{_fmt(value)}</text>'
        )
    return _svg(title, desc, body, WIDTH, height)
