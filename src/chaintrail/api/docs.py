"""``/docs``: Swagger UI from files shipped in the package (``chaintrail/data/swagger-ui``, with
its licence), so the page works on an offline investigation machine; no CDN is contacted."""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

from chaintrail.errors import NotFoundError

ASSET_PATH = "/docs/assets/"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
    "LICENSE": "text/plain",
    "NOTICE": "text/plain",
}


def add_docs(app: FastAPI) -> None:
    """Serve the Swagger UI page at ``/docs`` and its assets under :data:`ASSET_PATH`."""
    folder = resources.files("chaintrail") / "data" / "swagger-ui"

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - docs",
            swagger_js_url=ASSET_PATH + "swagger-ui-bundle.js",
            swagger_css_url=ASSET_PATH + "swagger-ui.css",
            swagger_favicon_url=ASSET_PATH + "favicon-32x32.png",
        )

    @app.get(ASSET_PATH + "{name}", include_in_schema=False)
    def asset(name: str) -> Response:
        if name not in ASSETS:
            raise NotFoundError(f"no docs asset {name[:80]!r}")
        return Response(
            (folder / name).read_bytes(), media_type=ASSETS[name],
            headers={"Cache-Control": "public, max-age=86400"},
        )  # fmt: skip
