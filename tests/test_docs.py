"""The docs a newcomer reads: the configuration page is what the settings say (it is generated from
them: `onedoor docs configuration`), and every link between the README, docs/ and bench/ leads to a
page and a heading that exist. No stack needed."""

import re
from pathlib import Path

from typer.testing import CliRunner

from onedoor.cli import app
from onedoor.settings import Settings

ROOT = Path(__file__).parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "bench" / "README.md", ROOT / "bench" / "NOTES.md"]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def test_the_configuration_page_is_what_the_settings_say():
    printed = CliRunner().invoke(app, ["docs", "configuration"])
    assert printed.exit_code == 0, printed.output
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert page == printed.output, "docs/configuration.md is stale: run `onedoor docs configuration > docs/configuration.md`"


def test_every_setting_is_on_the_configuration_page_with_its_meaning():
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"`ONEDOOR_{name.upper()}" in page or name == "database_url", name
    rows = [line for line in page.splitlines() if line.startswith("| `")]
    assert len(rows) > len(Settings.model_fields)
    for line in rows:
        assert line.rstrip(" |").rsplit(" | ", 1)[1].strip(), f"a variable without a meaning: {line}"


def anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped (CJK kept), spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)
    return {anchor(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


def test_every_link_between_the_pages_leads_somewhere():
    broken = []
    for page in PAGES:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue  # another site
            path, _, fragment = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif fragment and linked.suffix == ".md" and fragment not in anchors(linked):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert broken == []
