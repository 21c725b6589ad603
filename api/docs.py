"""/docs (Swagger UI) and /redoc (ReDoc) served from files in this package.

FastAPI's own pages load their scripts from a CDN (and ReDoc's fonts from Google): on a county's
offline network they stay blank. The files are vendored from npm into static/ (its README says
which versions and licences). The API and the simulator both serve their docs this way.
"""

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
ASSETS = "/docs/assets"


def serve_docs(app: FastAPI) -> None:
    """Add /docs and /redoc to an app made with docs_url=None and redoc_url=None."""
    app.mount(ASSETS, StaticFiles(directory=STATIC), name="docs-assets")

    def root(request: Request) -> str:
        # Behind a proxy that serves the app under a prefix, every URL the page loads carries it.
        return request.scope.get("root_path", "").rstrip("/")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        assets = root(request) + ASSETS
        return get_swagger_ui_html(
            openapi_url=root(request) + app.openapi_url, title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{assets}/swagger-ui/swagger-ui-bundle.js", swagger_css_url=f"{assets}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{assets}/swagger-ui/favicon-32x32.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        assets = root(request) + ASSETS
        return get_redoc_html(
            openapi_url=root(request) + app.openapi_url, title=f"{app.title} - ReDoc",
            redoc_js_url=f"{assets}/redoc/redoc.standalone.js", redoc_favicon_url=f"{assets}/swagger-ui/favicon-32x32.png",
            with_google_fonts=False,
        )
