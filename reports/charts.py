"""The report's charts as PNG bytes, drawn with matplotlib's Agg canvas.

Figures are made without pyplot: no global state, so activities on the worker's threads can
draw at once. Labels are English; category names stay Chinese only where a CJK font is
installed, otherwise they are the categories' English codes (no missing-glyph boxes or warnings).
"""

from functools import cache
from io import BytesIO

from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from domain.labels import Category
from reports.figures import WeeklyFigures

CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "PingFang SC")
GRADE_COLOURS = {"red": "#d62728", "yellow": "#f2b705", "blue": "#1f77b4", "ungraded": "#9e9e9e"}
CATEGORY_CODES = {category.value: category.name.replace("_", " ").lower() for category in Category}


@cache
def cjk_font() -> str | None:
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def category_label(category: str, font: str | None) -> str:
    return category if font else CATEGORY_CODES.get(category, category.encode("ascii", "replace").decode())


def png(figure: Figure) -> bytes:
    buffer = BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


def categories_figure(figures: WeeklyFigures, font: str | None) -> Figure:
    """New cases of the week, one bar per category, stacked by grade."""
    rows = list(reversed(figures.by_category))  # the largest at the top
    figure = Figure(figsize=(7, 1.2 + 0.4 * max(len(rows), 2)), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    labels = [category_label(row.category, font) for row in rows]
    left = [0] * len(rows)
    for grade, colour in GRADE_COLOURS.items():
        counts = [getattr(row, grade) for row in rows]
        axes.barh(labels, counts, left=left, color=colour, label=grade)
        left = [a + b for a, b in zip(left, counts)]
    if font:
        axes.set_yticks(range(len(labels)), labels, fontfamily=font)
    if not rows:
        axes.text(0.5, 0.5, "no new cases", ha="center", va="center", transform=axes.transAxes)
    axes.set_xlabel("new cases")
    axes.set_title(f"New cases by category and grade, week of {figures.week_start}")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    return figure


def trend_figure(figures: WeeklyFigures, font: str | None) -> Figure:
    """New cases per week: the four weeks before and this one."""
    figure = Figure(figsize=(7, 3), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    weeks = [w.week_start.strftime("%m-%d") for w in figures.trend]
    counts = [w.new_cases for w in figures.trend]
    axes.plot(weeks, counts, marker="o", color="#1f77b4")
    for x, y in zip(weeks, counts):
        axes.annotate(str(y), (x, y), textcoords="offset points", xytext=(0, 6), ha="center")
    axes.axhline(figures.previous_average, color="#9e9e9e", linestyle="--", label=f"4-week average {figures.previous_average}")
    axes.set_ylim(bottom=0, top=max(counts + [1]) * 1.25)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_xlabel("week starting (Monday)")
    axes.set_ylabel("new cases")
    axes.set_title("5-week trend")
    axes.legend(loc="upper left", fontsize="small")
    return figure


CHARTS = {"categories": categories_figure, "trend": trend_figure}


def render_charts(figures: WeeklyFigures) -> dict[str, bytes]:
    font = cjk_font()
    return {name: png(draw(figures, font)) for name, draw in CHARTS.items()}
