"""/docs and /redoc render with no internet: Debian's Chromium, headless and unable to resolve any
host but this machine, loads the API's and the simulator's pages and their operations show.

The screenshots are kept under var/test-artifacts/docs (printed by the test) to look at."""

import asyncio
import os
import re
import shutil
from pathlib import Path

import httpx
import pytest
from matplotlib import image

ROOT = Path(__file__).parents[2]
ARTIFACTS = ROOT / "var" / "test-artifacts" / "docs"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

if CHROMIUM is None and os.environ.get("CI") != "true":
    pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run installs it, and in CI this test fails without it)", allow_module_level=True)


async def render(url: str, screenshot: Path, profile: Path) -> str:
    """The page's DOM once its scripts have run, and a screenshot of it, from headless Chromium.

    Chromium resolves no host but 127.0.0.1: a page that loads anything from a CDN renders here
    as it would on a county's offline network, whatever network this machine has."""
    assert CHROMIUM, "chromium is not installed: .ci/run installs Debian's chromium"
    chromium = await asyncio.create_subprocess_exec(
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", f"--user-data-dir={profile}", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--window-size=1280,1600", "--virtual-time-budget=10000", f"--screenshot={screenshot}", "--dump-dom", url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    dom, errors = await asyncio.wait_for(chromium.communicate(), timeout=120)
    assert chromium.returncode == 0, errors.decode()[-2000:]
    return dom.decode()


def not_blank(screenshot: Path) -> bool:
    """More than one colour on the page: text and panels, not a white sheet."""
    return image.imread(screenshot).std() > 0.05


@pytest.mark.parametrize(
    ("server", "page", "rendered"),
    [
        # Swagger UI lists each operation with its summary; ReDoc gives each its heading.
        ("api", "docs", r'<div class="opblock-summary-description">登记受理一件纠纷 register a dispute</div>'),
        ("api", "redoc", r"<h2[^>]*>(<a[^>]*></a>)?登记受理一件纠纷 register a dispute"),
        ("simulator", "docs", r'<span class="opblock-summary-path" data-path="/units/\{unit\}/dispatches">'),
        ("simulator", "redoc", r'data-item-id="operation/receive_units__unit__dispatches_post"'),
    ],
    ids=["api-docs", "api-redoc", "simulator-docs", "simulator-redoc"],
)
async def test_the_docs_render_offline(stack, settings, tmp_path, server, page, rendered):
    url = f"http://127.0.0.1:{settings.api_port if server == 'api' else settings.simulator_port}/{page}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / f"{server}-{page}.png"
    screenshot.unlink(missing_ok=True)
    dom = await render(url, screenshot, tmp_path / "chromium-profile")
    print(f"screenshot: {screenshot}")
    assert re.search(rendered, dom), f"{url} did not render: {dom[:2000]}"
    assert not_blank(screenshot)
    # And it would render the same where the internet is reachable: the page names no other host.
    async with httpx.AsyncClient(timeout=10) as client:  # the servers run on this test's event loop
        served = await client.get(url)
    assert not re.findall(r"(?:https?:)?//[\w.-]+", served.text)
