"""A paper rendered: its Jinja2 template over the one A4 print stylesheet (templates/paper.css), as a
page a browser prints, or as PDF laid out by WeasyPrint in the CJK font (fonts-noto-cjk)."""

from pathlib import Path
from typing import Literal

from markupsafe import Markup

from onedoor.papers.views import Paper
from onedoor.reports.html import templates_in

TEMPLATES = Path(__file__).parent / "templates"
STYLESHEET = (TEMPLATES / "paper.css").read_text(encoding="utf-8")
Format = Literal["html", "pdf"]


class PdfUnavailable(Exception):
    """WeasyPrint's libraries (Pango) are not on this machine: the HTML page still prints."""


def css_string(text: str) -> Markup:
    """A CSS string literal inside the page's <style> (the running header's case number and issuer):
    a quote, a backslash or a tag's bracket could not end it."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ").replace("\n", " ")
    return Markup(f'"{escaped}"')


environment = templates_in(TEMPLATES)
environment.filters["css_string"] = css_string


def render_html(view: Paper) -> str:
    return environment.get_template(f"{view.kind}.html").render(paper=view, stylesheet=Markup(STYLESHEET))


def render_pdf(view: Paper) -> bytes:
    # Imported on first use: WeasyPrint loads Pango when imported, and a machine without it (a developer's
    # `onedoor up`) still serves everything else, the papers' HTML included.
    try:
        from weasyprint import HTML
    except OSError as missing:
        raise PdfUnavailable(str(missing)) from missing
    return HTML(string=render_html(view)).write_pdf()


def render_paper(view: Paper, format: Format = "html") -> str | bytes:
    """The paper as an HTML page (str) or a PDF (bytes)."""
    return render_pdf(view) if format == "pdf" else render_html(view)
