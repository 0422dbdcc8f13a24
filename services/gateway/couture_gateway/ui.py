"""Serves the built web UI (ui/dist) from the gateway's origin, next to the API it calls."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, Response

#: Where ``cd ui && npm ci && npm run build`` writes the UI in a source checkout.
UI_DIST = Path(__file__).resolve().parents[3] / "ui" / "dist"

#: Paths the UI never answers, so an unknown API URL stays a JSON 404 instead of the app's HTML.
RESERVED_PREFIXES = ("api", "auth", "openapi.json", "docs", "redoc")

# Vite names every file under assets/ by its content hash: it never changes, so browsers keep it.
_IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}
# index.html names the current assets, so it must be fetched afresh after each build.
_REVALIDATE = {"Cache-Control": "no-cache"}

_NOT_BUILT = """<!doctype html><html><head><title>Couture</title></head><body style="font-family:sans-serif">
<h1>The web UI is not built</h1>
<p>Build it with <code>cd ui &amp;&amp; npm ci &amp;&amp; npm run build</code> (or run <code>make run</code>),
then reload. The REST API is up: <a href="/docs">/docs</a>.</p></body></html>"""


def _is_reserved(path: str) -> bool:
    first = path.split("/", 1)[0]
    return first in RESERVED_PREFIXES


def mount_ui(app: FastAPI, dist: Path = UI_DIST) -> None:
    """Answer GETs outside the API with the single-page app in ``dist``.

    A path naming a file in ``dist`` gets that file; any other path gets ``index.html`` so the
    app's client-side routes (``/dags/x/graph``) survive a reload. Call it after every API router
    is included: routes match in order, so the API always wins.
    """
    root = dist.resolve()
    index = root / "index.html"

    async def serve_ui(path: str) -> Response:
        if _is_reserved(path):
            raise HTTPException(status_code=404, detail="Not Found")
        if not index.is_file():
            return HTMLResponse(_NOT_BUILT, status_code=503)
        candidate = (root / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(root):
            headers = _IMMUTABLE if candidate.parent == root / "assets" else _REVALIDATE
            return FileResponse(candidate, headers=headers)
        return FileResponse(index, headers=_REVALIDATE)

    app.add_api_route(
        "/{path:path}", serve_ui, methods=["GET", "HEAD"], include_in_schema=False, name="serve_ui"
    )
