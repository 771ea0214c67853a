"""Charts as geometry for templates/chart.html to draw as SVG: stacked bars per day, lines per
day with markers, and horizontal bars for rates. Plain values in the chart's own units (its
viewBox); the template escapes every text. No colour stands alone: each series also has a
fill pattern (bars) or a dash and a marker shape (lines), a legend, and direct labels where
they fit; every bar and point has a title, and every chart its numbers as a table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

WIDTH, HEIGHT = 480, 240
LEFT, TOP, BOTTOM = 58, 16, 44  # room for the y ticks and label, the x ticks and label
RIGHT = 34  # room for a line's end label
CHAR = 5.6  # the width of a character of a 10-unit label, about, to decide what fits
ROW = 26  # a horizontal bar's row


@dataclass(frozen=True)
class Look:
    """How a series is told apart: a colour and a fill pattern (PATTERNS), or for a line a
    dash and a marker ("circle", "square", "diamond")."""

    colour: str
    pattern: str = "solid"
    dash: str = ""
    marker: str = "circle"

    @property
    def ink(self) -> str:
        """The pattern's marks: dark on a light colour, white on a dark one."""
        red, green, blue = (int(self.colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
        light = 0.2126 * red + 0.7152 * green + 0.0722 * blue > 0.55
        return "#1f2328" if light else "#ffffff"


PATTERNS = ("solid", "diagonal", "dots", "cross", "horizontal", "back", "vertical", "grid")


@dataclass(frozen=True)
class Series:
    key: str  # [a-z0-9-], unique in its chart: ids and data attributes
    name: str
    values: tuple[float | None, ...]  # one per day (or per row); None: nothing to show
    look: Look


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class Mark:
    """A bar (or a stacked bar's segment) or a line's point, with what it says."""

    x: float
    y: float
    width: float
    height: float
    series: str
    day: str  # ISO date, or the row's name
    value: float
    title: str
    look: Look


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass(frozen=True)
class Line:
    series: str
    points: str  # "x,y x,y ..." for a polyline; a run of days with values
    look: Look


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""


@dataclass(frozen=True)
class Chart:
    id: str
    kind: str  # bars | lines | rates
    title: str
    description: str
    x_label: str
    y_label: str
    series: tuple[Series, ...]
    table: Table
    left: float = LEFT
    right: float = WIDTH - RIGHT
    top: float = TOP
    bottom: float = HEIGHT - BOTTOM
    height: float = HEIGHT
    width: float = WIDTH
    x_ticks: tuple[Tick, ...] = ()
    y_ticks: tuple[Tick, ...] = ()
    marks: tuple[Mark, ...] = ()
    lines: tuple[Line, ...] = ()
    labels: tuple[Label, ...] = ()
    empty: bool = False  # nothing to show in the period: the template says so
    dense: bool = False  # bars too narrow for the larger labels of a narrow screen


Format = Callable[[float], str]


# Round steps for an axis of durations, in seconds: 1, 2, 5, 10, 15, 30 s, 1, 2, 5, 10, 15,
# 30 min, 1, 2, 3, 6, 12 h, days.
DURATION_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800,
                  21600, 43200, 86400)  # fmt: skip


def nice_ticks(top: float, whole: bool, count: int = 4, steps: Sequence[float] = ()) -> list[float]:
    """0 and round steps up to at least `top` (1 when there is nothing): 1, 2, 2.5 or 5 times
    a power of ten (whole steps for counts), or the first of `steps` that is big enough."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    factors = (1, 2, 5, 10) if whole and magnitude < 10 else (1, 2, 2.5, 5, 10)
    step = next((s for s in steps if s >= raw), None) or next(
        m * magnitude for m in factors if m * magnitude >= raw
    )
    if whole:
        step = max(1.0, step)
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def _day_ticks(days: Sequence[date], left: float, slot: float) -> tuple[Tick, ...]:
    every = max(1, math.ceil(len(days) / 7))
    return tuple(
        Tick(left + (i + 0.5) * slot, d.strftime("%m-%d"))
        for i, d in enumerate(days)
        if (len(days) - 1 - i) % every == 0
    )


def _y_ticks(
    values: list[float], whole: bool, steps: Sequence[float] = ()
) -> tuple[list[float], float]:
    ticks = nice_ticks(max(values, default=0), whole, steps=steps)
    return ticks, ticks[-1]


def _scale(value: float, top: float) -> float:
    return (TOP + (HEIGHT - BOTTOM - TOP) * (1 - value / top)) if top else HEIGHT - BOTTOM


def stacked_bars(
    id: str,
    title: str,
    y_label: str,
    days: Sequence[date],
    series: Sequence[Series],
    *,
    fmt: Format,
    tick: Format,
    whole: bool,
    description: str,
    totals: bool = True,
) -> Chart:
    """One bar per day, its series stacked in order from the axis up; the day's total above
    it when the label fits."""
    stacks = [sum(s.values[i] or 0 for s in series) for i in range(len(days))]
    ticks, top = _y_ticks(stacks, whole)
    slot = (WIDTH - RIGHT - LEFT) / max(len(days), 1)
    width = max(1.0, slot * 0.72)
    marks: list[Mark] = []
    labels: list[Label] = []
    for i, day in enumerate(days):
        x = LEFT + i * slot + (slot - width) / 2
        base = 0.0
        for s in series:
            value = s.values[i] or 0
            if value <= 0:
                continue
            y0, y1 = _scale(base, top), _scale(base + value, top)
            title_text = f"{day.isoformat()}, {s.name}: {fmt(value)}"
            marks.append(
                Mark(x, y1, width, y0 - y1, s.key, day.isoformat(), value, title_text, s.look)
            )
            base += value
        text = fmt(stacks[i])
        if totals and stacks[i] > 0 and len(text) * CHAR * 0.9 <= slot + 2:
            labels.append(Label(x + width / 2, _scale(stacks[i], top) - 3, text))
    header = ("Day (UTC)", *(s.name for s in series), "Total")
    rows = [
        (d.isoformat(), *(fmt(s.values[i] or 0) for s in series), fmt(stacks[i]))
        for i, d in enumerate(days)
    ]
    rows.append(("Total", *(fmt(sum(v or 0 for v in s.values)) for s in series), fmt(sum(stacks))))
    return Chart(
        id=id,
        kind="bars",
        title=title,
        description=description,
        x_label="Day (UTC)",
        y_label=y_label,
        series=tuple(series),
        table=Table(header, tuple(rows)),
        x_ticks=_day_ticks(days, LEFT, slot),
        y_ticks=tuple(Tick(_scale(t, top), tick(t)) for t in ticks),
        marks=tuple(marks),
        labels=tuple(labels),
        empty=not any(stacks),
        dense=slot < 24,
    )


def lines(
    id: str,
    title: str,
    y_label: str,
    days: Sequence[date],
    series: Sequence[Series],
    *,
    fmt: Format,
    tick: Format,
    description: str,
    missing: str,
    steps: Sequence[float] = (),
) -> Chart:
    """One line per series through the days that have a value (a gap where one has none),
    a marker at each point, and the series' name after its last point."""
    values = [v for s in series for v in s.values if v is not None]
    ticks, top = _y_ticks(values, False, steps)
    slot = (WIDTH - RIGHT - LEFT) / max(len(days), 1)
    marks: list[Mark] = []
    drawn: list[Line] = []
    ends: list[Label] = []
    for s in series:
        run: list[str] = []
        last: tuple[float, float] | None = None
        for i, day in enumerate(days):
            value = s.values[i]
            if value is None:
                if len(run) > 1:
                    drawn.append(Line(s.key, " ".join(run), s.look))
                run = []
                continue
            x, y = LEFT + (i + 0.5) * slot, _scale(value, top)
            run.append(f"{x:.1f},{y:.1f}")
            title_text = f"{day.isoformat()}, {s.name}: {fmt(value)}"
            marks.append(Mark(x, y, 0, 0, s.key, day.isoformat(), value, title_text, s.look))
            last = (x, y)
        if len(run) > 1:
            drawn.append(Line(s.key, " ".join(run), s.look))
        if last is not None:
            ends.append(Label(last[0] + 6, last[1] + 3, s.name, "start"))
    ends.sort(key=lambda label: label.y)
    for i in range(1, len(ends)):  # end labels at least a line apart
        if ends[i].y - ends[i - 1].y < 10:
            ends[i] = Label(ends[i].x, ends[i - 1].y + 10, ends[i].text, "start")
    header = ("Day (UTC)", *(s.name for s in series))
    rows = tuple(
        (
            d.isoformat(),
            *(missing if s.values[i] is None else fmt(s.values[i] or 0) for s in series),
        )
        for i, d in enumerate(days)
    )
    return Chart(
        id=id,
        kind="lines",
        title=title,
        description=description,
        x_label="Day (UTC)",
        y_label=y_label,
        series=tuple(series),
        table=Table(header, rows, note=f"{missing}: no value that day"),
        x_ticks=_day_ticks(days, LEFT, slot),
        y_ticks=tuple(Tick(_scale(t, top), tick(t)) for t in ticks),
        marks=tuple(marks),
        lines=tuple(drawn),
        labels=tuple(ends),
        empty=not values,
    )


def rates(
    id: str,
    title: str,
    names: Sequence[str],
    rated: Sequence[float | None],
    texts: Sequence[str],
    look: Look,
    table: Table,
    *,
    description: str,
) -> Chart:
    """A horizontal bar per name, its length the rate (0 to 1) and `texts` after it."""
    # Room for the longest name at the larger text narrow screens get (about 8 units a letter).
    left = min(170.0, max(60.0, 14 + 8 * max((len(n) for n in names), default=0)))
    right, top = WIDTH - 112.0, 8.0
    height = top + ROW * max(len(names), 1) + 40
    bottom = height - 40
    marks: list[Mark] = []
    labels: list[Label] = []
    y_ticks: list[Tick] = []
    for i, (name, rate, text) in enumerate(zip(names, rated, texts, strict=True)):
        y = top + i * ROW + 5
        y_ticks.append(Tick(y + 8, name))
        length = (right - left) * (rate or 0)
        if rate is not None:
            title_text = f"{name}: {text}"
            marks.append(Mark(left, y, max(length, 1.0), 16, "rate", name, rate, title_text, look))
        labels.append(Label(left + length + 4, y + 12, text, "start"))
    x_ticks = tuple(Tick(left + (right - left) * p / 4, f"{p * 25}%") for p in range(5))
    series = Series("rate", "Acceptance rate", tuple(rated), look)
    return Chart(
        id=id,
        kind="rates",
        title=title,
        description=description,
        x_label="Findings accepted, of those judged",
        y_label="",
        series=(series,),
        table=table,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        height=height,
        x_ticks=x_ticks,
        y_ticks=tuple(y_ticks),
        marks=tuple(marks),
        labels=tuple(labels),
        empty=not names,
    )
