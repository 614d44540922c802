"""``/docs`` (Swagger UI), ``/redoc`` (ReDoc) and ``/openapi.json``, served by the service
itself: the pages load their scripts and styles from ``/docs/assets/``, which serves the
copies the ``fastapi-offline`` package ships, so the docs work with no internet access.

Each is an API route (left out of the document), so logs and metrics label it by its path.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Final, Literal

from fastapi import FastAPI, Request, Response
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, JSONResponse

from entrypoints.http.routing import add_route

__all__ = ["ASSETS", "install"]

OPENAPI: Final = "/openapi.json"
_ASSETS_PATH: Final = "/docs/assets"
_REDIRECT: Final = "/docs/oauth2-redirect"

Asset = Literal["swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png"]
ASSETS: Final[dict[str, str]] = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
"""The files served under ``/docs/assets/``, with their media types."""
_WEEK: Final = {"Cache-Control": "public, max-age=604800"}


async def openapi(request: Request) -> Response:
    """The OpenAPI document."""
    app: FastAPI = request.app
    return JSONResponse(app.openapi())


async def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI over the document, with the OAuth2 password form for `POST /auth/token`."""
    root = request.scope.get("root_path", "")
    return get_swagger_ui_html(
        openapi_url=root + OPENAPI,
        title=f"{request.app.title} - Swagger UI",
        swagger_js_url=f"{root}{_ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{_ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{root}{_ASSETS_PATH}/favicon.png",
        oauth2_redirect_url=root + _REDIRECT,
    )


async def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


async def redoc(request: Request) -> HTMLResponse:
    """ReDoc over the document."""
    root = request.scope.get("root_path", "")
    return get_redoc_html(
        openapi_url=root + OPENAPI,
        title=f"{request.app.title} - ReDoc",
        redoc_js_url=f"{root}{_ASSETS_PATH}/redoc.standalone.js",
        redoc_favicon_url=f"{root}{_ASSETS_PATH}/favicon.png",
        with_google_fonts=False,
    )


async def asset(name: Asset) -> Response:
    """One of the docs' scripts, styles or icon, as the package ships it."""
    content = files("fastapi_offline").joinpath("static", name).read_bytes()
    return Response(content, media_type=ASSETS[name], headers=_WEEK)


def install(app: FastAPI) -> None:
    """Add the document, the two UIs and their assets to ``app`` (made with ``docs_url``,
    ``redoc_url`` and ``openapi_url`` off)."""
    for path, endpoint in (
        (OPENAPI, openapi),
        ("/docs", swagger_ui),
        (_REDIRECT, swagger_ui_redirect),
        ("/redoc", redoc),
        (_ASSETS_PATH + "/{name}", asset),
    ):
        add_route(app, path, endpoint, methods=["GET"], include_in_schema=False)
