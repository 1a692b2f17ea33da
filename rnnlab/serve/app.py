"""``create_app(registry)``: the FastAPI app of the explorer: the API (``api.router``), the
game (``game.router``) and the per-task pages (``views/*.py``), each an ``APIRouter`` listed in
``PAGES``, plus the static files. Errors: ``InputError`` → 422 (the game's ``NotFound`` → 404,
``Conflict`` → 409), another ``RnnlabError`` → 500, an invalid body → 422 with a readable message.

Every response goes through ``guard.Guard``: a body-size limit (64 KiB; the speech upload has
its own), a per-request time limit and security headers (a CSP allowing this origin only); the
model endpoints also through ``admission.Admission`` (a bounded line, 503 + Retry-After past it).

>>> app = create_app(registry)         # doctest: +SKIP
>>> uvicorn.run(app, host="127.0.0.1", port=8765)   # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from rnnlab.errors import InputError, RnnlabError
from rnnlab.serve.admission import Admission
from rnnlab.serve.api import router as api_router
from rnnlab.serve.config import MAX_WAIT_S
from rnnlab.serve.game.router import router as game_router
from rnnlab.serve.game.store import Conflict, NotFound
from rnnlab.serve.guard import MAX_BODY, REQUEST_TIMEOUT_S, Guard
from rnnlab.serve.registry import ModelRegistry
from rnnlab.serve.views import inside, memory, playground, speech, translate

STATIC = Path(__file__).with_name("static")
# the pages besides the explorer, in nav-bar order: (router, path, nav label)
PAGES: list[tuple[APIRouter, str, str]] = [
    (game_router, "/game", "Game"),
    (translate.router, "/translate", "Translate"),
    (speech.router, "/speech", "Speech"),
    (memory.router, "/memory", "Memory"),
    (inside.router, "/inside", "Inside"),
    (playground.router, "/playground", "Playground"),
]
BODY_LIMITS = {**speech.BODY_LIMITS}  # routes allowed more than max_body (the WAV upload)


def _readable(err: dict) -> str:
    where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "request"
    return f"{where}: {err.get('msg', 'invalid value')}"


def create_app(
    registry: ModelRegistry,
    *,
    max_body: int = MAX_BODY,
    request_timeout: float = REQUEST_TIMEOUT_S,
    max_wait: float = MAX_WAIT_S,
) -> FastAPI:
    """The app serving ``registry``'s models; kept at ``app.state.registry``.

    ``max_body``: largest request body in bytes (413 above); ``request_timeout``: seconds
    before a request is answered with 503 (0 = no limit); ``max_wait``: seconds of queued
    work past which a model request is refused with 503 + Retry-After (0 = never).
    """
    # no Swagger page: it loads its script and styles from a CDN, which the CSP forbids
    # (the schema stays at /openapi.json)
    app = FastAPI(title="rnnlab explorer", docs_url=None, redoc_url=None)
    app.state.registry = registry
    app.state.pages = [{"path": "/", "label": "Explorer"}] + [
        {"path": path, "label": label} for _, path, label in PAGES
    ]

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
        status = 404 if isinstance(exc, NotFound) else 409 if isinstance(exc, Conflict) else 422
        return JSONResponse({"detail": str(exc)}, status)

    @app.exception_handler(RnnlabError)
    async def _rnnlab(request: Request, exc: RnnlabError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, 500)

    app.include_router(api_router)
    for router, _, _ in PAGES:
        app.include_router(router)

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/index.html", include_in_schema=False)
    def index_html() -> RedirectResponse:
        return RedirectResponse("/")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(Admission, max_wait=max_wait)  # inside Guard: its 503s get the headers
    app.add_middleware(Guard, max_body=max_body, body_limits=BODY_LIMITS, timeout=request_timeout)
    return app
