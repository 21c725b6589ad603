"""The report's charts as PNG bytes, drawn with matplotlib's Agg canvas.

Figures are made without pyplot: no global state, so activities on the worker's threads can
draw at once. Every text is Chinese, written in the CJK font reports/fonts.py registered; where
there is none, it is English and categories are their English codes (no missing-glyph boxes).
"""

from io import BytesIO

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from onedoor.domain.labels import Category
from onedoor.domain.weekly_report import WeeklyFigures

# grade: colour, Chinese, English
GRADES = {"red": ("#d62728", "红", "red"), "yellow": ("#f2b705", "黄", "yellow"), "blue": ("#1f77b4", "蓝", "blue"), "ungraded": ("#9e9e9e", "未评级", "ungraded")}
CATEGORY_CODES = {category.value: category.name.replace("_", " ").lower() for category in Category}


def said(font: str | None, chinese: str, english: str) -> str:
    return chinese if font else english


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
    axes.tick_params(labelfontfamily=font)  # every text in the font (None: matplotlib's default)
    labels = [category_label(row.category, font) for row in rows]
    left = [0] * len(rows)
    for grade, (colour, chinese, english) in GRADES.items():
        counts = [getattr(row, grade) for row in rows]
        axes.barh(labels, counts, left=left, color=colour, label=said(font, chinese, english))
        left = [a + b for a, b in zip(left, counts)]
    if not rows:
        axes.text(0.5, 0.5, said(font, "本周无新增纠纷", "no new cases"), ha="center", va="center", transform=axes.transAxes, fontfamily=font)
    axes.set_xlabel(said(font, "新增件数", "new cases"), fontfamily=font)
    axes.set_title(said(font, f"本周新增纠纷（按类别和等级），{figures.week_start} 起", f"New cases by category and grade, week of {figures.week_start}"), fontfamily=font)
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), prop={"size": "small", "family": font})
    return figure


def trend_figure(figures: WeeklyFigures, font: str | None) -> Figure:
    """New cases per week: the four weeks before and this one."""
    figure = Figure(figsize=(7, 3), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    axes.tick_params(labelfontfamily=font)
    weeks = [w.week_start.strftime("%m-%d") for w in figures.trend]
    counts = [w.new_cases for w in figures.trend]
    axes.plot(weeks, counts, marker="o", color="#1f77b4")
    for x, y in zip(weeks, counts):
        axes.annotate(str(y), (x, y), textcoords="offset points", xytext=(0, 6), ha="center", fontfamily=font)
    average = said(font, f"前 4 周平均 {figures.previous_average}", f"4-week average {figures.previous_average}")
    axes.axhline(figures.previous_average, color="#9e9e9e", linestyle="--", label=average)
    axes.set_ylim(bottom=0, top=max(counts + [1]) * 1.25)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_xlabel(said(font, "周（自周一起）", "week starting (Monday)"), fontfamily=font)
    axes.set_ylabel(said(font, "新增件数", "new cases"), fontfamily=font)
    axes.set_title(said(font, "近 5 周趋势", "5-week trend"), fontfamily=font)
    axes.legend(loc="upper left", prop={"size": "small", "family": font})
    return figure


CHARTS = {"categories": categories_figure, "trend": trend_figure}


def render_charts(figures: WeeklyFigures, font: str | None) -> dict[str, bytes]:
    """Each chart as PNG; `font` is the CJK font's family (reports.fonts.cjk_font), None for English."""
    return {name: png(draw(figures, font)) for name, draw in CHARTS.items()}
