"""Server-side SVG charts for the dashboard (no JavaScript, no vendored library).

Every bar is a link to the list of the cases it counts, like every number on the page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    colour: str


def bar_chart(categories: Sequence[str], series: Sequence[Series],
              values: Callable[[int, str], int], link: Callable[[int, str], str],
              title: str) -> Markup:
    """Grouped vertical bars: one group per category, one bar per series.

    ``values(i, key)`` is the count of category ``i`` for series ``key`` and ``link(i, key)``
    the URL of its cases. The SVG scales to its container (viewBox), so it fits a phone.
    """
    n = max(1, len(categories))
    width, height = max(360, n * 56 + 60), 240
    left, bottom, top = 36, 40, 28
    plot_h = height - bottom - top
    top_value = max([1, *[values(i, s.key) for i in range(len(categories)) for s in series]])
    step = max(1, -(-top_value // 4))
    scale_max = step * 4
    group_w = (width - left - 10) / n
    bar_w = min(22.0, (group_w - 8) / max(1, len(series)))
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="group" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" '
        'font-size="11" font-family="sans-serif">',
        f"<title>{escape(title)}</title>",
    ]
    for k in range(5):
        y = top + plot_h - plot_h * k / 4
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 6}" y2="{y:.1f}" '
                     'stroke="#e3e6ea"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" '
                     f'fill="#4b5563">{step * k}</text>')
    for i, name in enumerate(categories):
        gx = left + i * group_w + (group_w - bar_w * len(series)) / 2
        for j, s in enumerate(series):
            v = values(i, s.key)
            h = plot_h * v / scale_max
            x, y = gx + j * bar_w, top + plot_h - h
            label = f"{name} {s.label}：{v}"
            parts.append(
                f'<a href="{escape(link(i, s.key))}"><title>{escape(label)}</title>'
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" height="{max(h, 0.5):.1f}" '
                f'fill="{s.colour}"/>'
                f'<text x="{x + (bar_w - 2) / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle">{v}</text></a>'
            )
        parts.append(f'<text x="{left + i * group_w + group_w / 2:.1f}" y="{height - bottom + 16}" '
                     f'text-anchor="middle">{escape(name)}</text>')
    lx = left
    for s in series:
        parts.append(f'<rect x="{lx}" y="6" width="10" height="10" fill="{s.colour}"/>'
                     f'<text x="{lx + 14}" y="15">{escape(s.label)}</text>')
        lx += 16 + 13 * len(s.label)
    parts.append("</svg>")
    return Markup("".join(parts))


TOTAL_FILL = "#e8a39c"  # the whole bar of a horizontal chart: every case counted
PART_FILL = "#1a7f37"  # its closed part, as green as the dashboard's "closed"


@dataclass(frozen=True)
class HBar:
    """One row of a horizontal bar chart: its name, two counts and their lists."""

    label: str
    total: int
    part: int
    total_link: str
    part_link: str


def hbar_chart(rows: Sequence[HBar], total_label: str, part_label: str, title: str,
               total_metric: str = "total", part_metric: str = "closed") -> Markup:
    """Horizontal bars, one row per name (every row shown, zeros too): the whole bar is the
    total, its green start the part (e.g. closed), "part/total" after it; both are links.

    Geometry is in percent of the width and text in CSS pixels, so the chart is as legible
    on a 375-px phone as on a desktop (no viewBox scaling of the text).
    """
    row_h, top = 24, 30
    height = top + row_h * len(rows) + 4
    label_x, bar_x, bar_w = 27.0, 29.0, 56.0
    biggest = max([1, *[r.total for r in rows]])
    parts = [
        f'<svg class="hchart" width="100%" height="{height}" role="group" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" font-size="12" '
        'font-family="sans-serif">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{bar_x}%" y="6" width="12" height="12" fill="{TOTAL_FILL}"/>'
        f'<text x="{bar_x}%" dx="16" y="16">{escape(total_label)}</text>',
        f'<rect x="{bar_x + 28}%" y="6" width="12" height="12" fill="{PART_FILL}"/>'
        f'<text x="{bar_x + 28}%" dx="16" y="16">{escape(part_label)}</text>',
    ]
    for i, r in enumerate(rows):
        y = top + i * row_h
        w_total = bar_w * r.total / biggest
        w_part = bar_w * r.part / biggest
        parts.append(f'<text x="{label_x}%" y="{y + 13}" text-anchor="end">{escape(r.label)}'
                     "</text>")
        parts.append(
            f'<a class="figure bar" data-metric="{total_metric}" data-count="{r.total}" '
            f'href="{escape(r.total_link)}"><title>{escape(r.label)} {escape(total_label)}：'
            f'{r.total}</title><rect x="{bar_x}%" y="{y + 2}" width="{w_total:.2f}%" '
            f'height="{row_h - 8}" fill="{TOTAL_FILL}"/></a>')
        if r.part:
            parts.append(
                f'<a class="figure bar" data-metric="{part_metric}" data-count="{r.part}" '
                f'href="{escape(r.part_link)}"><title>{escape(r.label)} {escape(part_label)}：'
                f'{r.part}</title><rect x="{bar_x}%" y="{y + 2}" width="{w_part:.2f}%" '
                f'height="{row_h - 8}" fill="{PART_FILL}"/></a>')
        parts.append(f'<text x="{bar_x + w_total:.2f}%" dx="4" y="{y + 13}" fill="#374151">'
                     f"{r.part}/{r.total}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))

