"""``create_app(registry)``: the FastAPI app of the explorer (API + static pages + optional
views: the game and per-task pages, each an ``APIRouter`` in its own module).

Every response goes through ``guard.Guard``: a body-size limit (64 KiB; the speech upload has
its own), a per-request time limit and security headers (a CSP allowing this origin only).

>>> app = create_app(registry)         # doctest: +SKIP
>>> uvicorn.run(app, host="127.0.0.1", port=8765)   # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from rnnlab.errors import InputError, RnnlabError
from rnnlab.serve.api import router as api_router
from rnnlab.serve.guard import MAX_BODY, REQUEST_TIMEOUT_S, Guard
from rnnlab.serve.registry import ModelRegistry

STATIC = Path(__file__).with_name("static")
# optional modules of other pages: (module, nav label, default path)
OPTIONAL_VIEWS = [
    ("rnnlab.serve.game", "Game", "/game"),
    ("rnnlab.serve.views.translate", "Translate", "/translate"),
    ("rnnlab.serve.views.speech", "Speech", "/speech"),
    ("rnnlab.serve.views.memory", "Memory", "/memory"),
]
log = logging.getLogger("rnnlab.serve")


def _readable(err: dict) -> str:
    where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "request"
    return f"{where}: {err.get('msg', 'invalid value')}"


def create_app(
    registry: ModelRegistry,
    *,
    max_body: int = MAX_BODY,
    request_timeout: float = REQUEST_TIMEOUT_S,
) -> FastAPI:
    """The app serving ``registry``'s models; kept at ``app.state.registry``.

    ``max_body``: largest request body in bytes (413 above); ``request_timeout``: seconds
    before a request is answered with 503 (0 = no limit).
    """
    # no Swagger page: it loads its script and styles from a CDN, which the CSP forbids
    # (the schema stays at /openapi.json)
    app = FastAPI(title="rnnlab explorer", docs_url=None, redoc_url=None)
    app.state.registry = registry
    app.state.pages = [{"path": "/", "label": "Explorer"}]

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errs = exc.errors()
        return JSONResponse(
            {
                "detail": "; ".join(_readable(e) for e in errs),
                "errors": [{"loc": list(e.get("loc", ())), "msg": e.get("msg")} for e in errs],
            },
            422,
        )

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, 422)

    @app.exception_handler(RnnlabError)
    async def _rnnlab(request: Request, exc: RnnlabError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, 500)

    app.include_router(api_router)
    body_limits: dict[str, int] = {}
    for module, label, path in OPTIONAL_VIEWS:
        try:
            mod = importlib.import_module(module)
        except ImportError as e:
            if e.name and module.startswith(e.name):  # the module is simply not there
                continue
            log.warning("page %s not loaded: %s", module, e)
            continue
        router = getattr(mod, "router", None)
        if router is None:
            continue
        app.include_router(router)
        body_limits.update(getattr(mod, "BODY_LIMITS", {}))  # e.g. a WAV upload route
        app.state.pages.append(
            {"path": getattr(mod, "PAGE_PATH", path), "label": getattr(mod, "PAGE_LABEL", label)}
        )

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/index.html", include_in_schema=False)
    def index_html() -> RedirectResponse:
        return RedirectResponse("/")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(Guard, max_body=max_body, body_limits=body_limits, timeout=request_timeout)
    return app
