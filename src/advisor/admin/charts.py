"""Small inline SVG charts for the console's overview: bars per day, or lines per day (latency
percentiles). Server-drawn from our own numbers, so the page needs no script; each mark carries a
<title> with its value, and the table under the charts holds the same figures for screen readers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from html import escape

from markupsafe import Markup

from advisor.store.admin import DayActivity

WIDTH, HEIGHT, TOP, BOTTOM, LEFT = 320, 130, 14, 18, 34
COLOURS = ("#1f5fbf", "#c0392b")


def _frame(
    title: str, peak: float, unit: str, days: Sequence[date], marks: list[str], legend: str = ""
) -> Markup:
    first, last = (days[0].isoformat(), days[-1].isoformat()) if days else ("", "")
    body = "".join(marks)
    label = escape(f"{title}: {len(days)} days, highest {peak:g}{unit}")
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}" '
        'width="100%">'
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH}" y2="{HEIGHT - BOTTOM}" stroke="#8a94a1"/>'
        f'<text x="0" y="{TOP}" font-size="10" fill="#5b6470">{peak:g}{escape(unit)}</text>'
        f'<text x="0" y="{HEIGHT - BOTTOM}" font-size="10" fill="#5b6470">0</text>'
        f'<text x="{LEFT}" y="{HEIGHT - 4}" font-size="10" fill="#5b6470">{first}</text>'
        f'<text x="{WIDTH}" y="{HEIGHT - 4}" font-size="10" fill="#5b6470" text-anchor="end">{last}</text>'
        f"{legend}{body}</svg>"
    )


def _y(value: float, peak: float) -> float:
    return round(HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * (value / peak if peak else 0), 1)


def bar_chart(title: str, days: Sequence[date], values: Sequence[float], unit: str = "") -> Markup:
    peak = max([*values, 0]) or 1
    step = (WIDTH - LEFT) / max(len(days), 1)
    marks = []
    for n, (day, value) in enumerate(zip(days, values, strict=True)):
        top = _y(value, peak)
        marks.append(
            f'<rect x="{LEFT + n * step + 1:.1f}" y="{top}" width="{max(step - 2, 1):.1f}" '
            f'height="{HEIGHT - BOTTOM - top:.1f}" fill="{COLOURS[0]}"><title>{day.isoformat()}: '
            f"{value:g}{escape(unit)}</title></rect>"
        )
    return _frame(title, round(peak, 1), unit, days, marks)


def line_chart(
    title: str, days: Sequence[date], series: Mapping[str, Sequence[float | None]], unit: str = ""
) -> Markup:
    known = [v for values in series.values() for v in values if v is not None]
    peak = max([*known, 0]) or 1
    step = (WIDTH - LEFT) / max(len(days), 1)
    marks: list[str] = []
    legend: list[str] = []
    for colour, (name, values) in zip(COLOURS, series.items(), strict=False):
        points = [
            (LEFT + (n + 0.5) * step, _y(v, peak), day, v)
            for n, (day, v) in enumerate(zip(days, values, strict=True))
            if v is not None
        ]
        if points:
            path = " ".join(f"{x:.1f},{y}" for x, y, _, _ in points)
            marks.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
            marks += [
                f'<circle cx="{x:.1f}" cy="{y}" r="3" fill="{colour}"><title>{d.isoformat()} {escape(name)}: '
                f"{v:g}{escape(unit)}</title></circle>"
                for x, y, d, v in points
            ]
        legend.append(
            f'<text x="{WIDTH - 4 - 28 * len(legend)}" y="{TOP}" font-size="10" fill="{colour}" '
            f'text-anchor="end">{escape(name)}</text>'
        )
    return _frame(title, round(peak), unit, days, marks, "".join(legend))


def overview_charts(activity: Sequence[DayActivity]) -> dict[str, Markup]:
    """The overview's charts, by title: answers, abstention and fallback rates, feedback, latency."""
    days_shown = [d.day for d in activity]
    return {
        "Answers per day": bar_chart("Answers per day", days_shown, [d.answers for d in activity]),
        "Abstention rate": bar_chart(
            "Abstention rate",
            days_shown,
            [round(100 * d.abstained / d.answers, 1) if d.answers else 0 for d in activity],
            "%",
        ),
        "Feedback": line_chart(
            "Feedback",
            days_shown,
            {"up": [d.rated_up for d in activity], "down": [d.rated_down for d in activity]},
        ),
        "Fallback rate": bar_chart(
            "Fallback rate",
            days_shown,
            [round(100 * d.fallback / d.answers, 1) if d.answers else 0 for d in activity],
            "%",
        ),
        "Answer latency": line_chart(
            "Answer latency",
            days_shown,
            {"p50": [d.p50_ms for d in activity], "p95": [d.p95_ms for d in activity]},
            " ms",
        ),
    }
