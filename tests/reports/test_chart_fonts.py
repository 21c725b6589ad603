"""The weekly report's charts are written in Chinese with a CJK font registered from its file (the
one ONEDOOR_CJK_FONT names, or Debian's fonts-noto-cjk), whatever matplotlib's font cache holds;
with none, they fall back to English and say so once in the log."""

import os
import warnings
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import structlog
from matplotlib import font_manager
from matplotlib.text import Text

from onedoor.reports.charts import CHARTS, categories_figure, png, render_charts
from onedoor.domain.weekly_report import CategoryRow, WeekCount, WeeklyFigures
from onedoor.reports.fonts import cjk_font
from onedoor.settings import Settings

NOTO = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")  # Debian's fonts-noto-cjk
NOTO_SERIF = Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")  # the same package

if not NOTO.exists() and os.environ.get("CI") != "true":
    pytest.skip("Debian's fonts-noto-cjk is not installed (apt-get install fonts-noto-cjk; .ci/run installs it, and in CI this test fails without it)", allow_module_level=True)

MONDAY = date(2026, 11, 23)
FIGURES = WeeklyFigures(
    scope_code="139001101", scope_name="示范镇", scope_level="township", week_start=MONDAY, week_end=date(2026, 11, 29),
    cut_off=datetime(2026, 11, 29, 16, tzinfo=timezone.utc), new_cases=5,
    grades=CategoryRow(category="合计", red=1, yellow=2, blue=1, ungraded=1, total=5),
    by_category=[CategoryRow(category="劳动争议", red=1, yellow=1, blue=1, total=3), CategoryRow(category="邻里", yellow=1, ungraded=1, total=2)],
    trend=[WeekCount(week_start=MONDAY - timedelta(weeks=4 - n), new_cases=n + 1) for n in range(5)],
    previous_average=2.5, hot_spots=[], repeat_households=[], overdue_units=[], open_red_cases=[],
)


def drawn(figure) -> tuple[list[Text], list[str]]:
    """Every piece of text the figure draws, and the UserWarnings drawing it raised (matplotlib
    warns of each glyph missing from the font: a box where a character should be)."""
    with warnings.catch_warnings(record=True) as raised:
        warnings.simplefilter("always")
        png(figure)
    return [text for text in figure.findobj(Text) if text.get_visible() and text.get_text()], [str(warning.message) for warning in raised]


def faces(texts: list[Text]) -> set[tuple[str, str]]:
    """The font file and face (of a collection) each text is drawn with."""
    found = {font_manager.findfont(text.get_fontproperties(), fallback_to_default=False) for text in texts}
    return {(str(path), font_manager.get_font(path).family_name) for path in found}


def test_the_charts_are_in_chinese_in_the_cjk_font_installed_on_the_machine():
    font = cjk_font()
    assert font == "Noto Sans CJK SC"  # the simplified-Chinese face of the collection
    for name, draw in CHARTS.items():
        texts, raised = drawn(draw(FIGURES, font))
        assert faces(texts) == {(str(NOTO), "Noto Sans CJK SC")}, name
        assert raised == [], name
    texts, _ = drawn(categories_figure(FIGURES, font))
    assert {"劳动争议", "邻里"} <= {text.get_text() for text in texts}


def test_the_font_named_by_onedoor_cjk_font_is_the_one_used(monkeypatch):
    monkeypatch.setenv("ONEDOOR_CJK_FONT", str(NOTO_SERIF))
    font = cjk_font(Settings().cjk_font)
    assert font == "Noto Serif CJK SC"
    texts, raised = drawn(categories_figure(FIGURES, font))
    assert faces(texts) == {(str(NOTO_SERIF), "Noto Serif CJK SC")} and raised == []


@pytest.mark.parametrize(("font_file", "warnings_logged"), [
    ("NotoSansCJK-Regular.ttc", ["no CJK font"]),  # named, but not there
    ("not-a-font.ttc", ["not a font file", "no CJK font"]),  # there, but FreeType cannot read it
])
def test_without_a_cjk_font_the_charts_fall_back_to_english_and_say_so_once(monkeypatch, tmp_path, font_file, warnings_logged):
    (tmp_path / "not-a-font.ttc").write_text("<html>a download that went wrong</html>")
    monkeypatch.setenv("ONEDOOR_CJK_FONT", str(tmp_path / font_file))
    with structlog.testing.capture_logs() as lines:
        fonts = [cjk_font(Settings().cjk_font) for _ in range(3)]  # the worker's start, then each report
    assert fonts == [None] * 3
    assert [(line["log_level"], line["event"].partition(":")[0]) for line in lines] == [("warning", event) for event in warnings_logged]
    assert "fonts-noto-cjk" in lines[-1]["event"] and lines[-1]["looked_in"] == [str(tmp_path / font_file)]
    assert set(render_charts(FIGURES, None)) == set(CHARTS)
    texts, raised = drawn(categories_figure(FIGURES, None))
    assert {"labour", "neighbour", "New cases by category and grade, week of 2026-11-23"} <= {text.get_text() for text in texts}
    assert raised == []  # no boxes: no Chinese is written without a font that has it
