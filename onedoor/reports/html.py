"""The report as one self-contained HTML page: the meeting's handout.

Charts are inline data URIs rather than links to the PNG route, so the page stays whole when it
is saved, printed, mailed or opened offline at the meeting; the PNG route serves the same
images to anything else. Jinja2 escapes every value (addresses are typed by staff).
"""

from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from onedoor.domain.labels import Level, RiskGrade, Stage
from onedoor.domain.timezone import as_shanghai
from onedoor.domain.weekly_report import WeeklyFigures

TEMPLATES = Path(__file__).parent / "templates"


def beijing(moment: datetime) -> str:
    return as_shanghai(moment).strftime("%Y-%m-%d %H:%M")


def label(enum, value: str) -> str:
    """The Chinese label a reader knows the value by, or the value itself when it is not one of ours."""
    try:
        return enum(value).label
    except ValueError:
        return value


def templates_in(folder: Path) -> Environment:
    """The Jinja2 environment of a folder of printable pages (this report's, the case's papers')."""
    return Environment(
        loader=FileSystemLoader(folder),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,  # a misspelt field fails the render instead of printing nothing
        trim_blocks=True,
        lstrip_blocks=True,
    )


environment = templates_in(TEMPLATES)
environment.filters["beijing"] = beijing
environment.filters["stage"] = lambda value: label(Stage, value)
environment.filters["level"] = lambda value: label(Level, value)
environment.filters["grade"] = lambda value: label(RiskGrade, value)


def render_html(figures: WeeklyFigures, charts: dict[str, str], generated_at: datetime) -> str:
    """charts: name -> base64 PNG, as the register keeps them."""
    return environment.get_template("weekly.html").render(f=figures, charts=charts, generated_at=generated_at)
