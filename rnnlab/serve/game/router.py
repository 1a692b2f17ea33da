"""The game's HTTP endpoints: the ``/game`` page and ``/api/game/...``. Wiring only: the rules
live in ``beat``, ``memory`` and ``hidden``; their ``InputError`` / ``NotFound`` / ``Conflict``
become 422 / 404 / 409 JSON in the app's handler.

>>> client.post("/api/game/new", json={"model": "gru", "mode": "typed"}).json()["shown"]
... # doctest: +SKIP
['The']
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from rnnlab.serve.deps import Registry, Store
from rnnlab.serve.game import beat, hidden, memory
from rnnlab.serve.game import schemas as S

STATIC = Path(__file__).resolve().parent.parent / "static"

router = APIRouter()


@router.get("/game", include_in_schema=False)
def game_page() -> FileResponse:
    return FileResponse(STATIC / "game.html", headers={"Cache-Control": "no-cache"})


@router.get("/api/game/models", response_model=S.GameModels)
def game_models(reg: Registry) -> dict:
    """The next-word models one can play against (fill-in models cannot play)."""
    return beat.roster(reg)


# conditional keys (``summary``, ``step``...) stay absent rather than null
_sparse = {"response_model_exclude_unset": True}


@router.post("/api/game/new", response_model=S.GameState, **_sparse)
def new_game(req: S.NewGame, reg: Registry, store: Store) -> dict:
    g = beat.new_game(reg, req.model, req.mode, req.sentences, req.seed)
    with g.lock:
        g.id = store.add(g)
        return beat.state(g, reg.get(g.model))


@router.get("/api/game/session/{sid}", response_model=S.GameState, **_sparse)
def game_state(sid: str, reg: Registry, store: Store) -> dict:
    g = store.session(sid, "beat")
    with g.lock:
        return beat.state(g, reg.get(g.model))


@router.post("/api/game/guess", response_model=S.GuessReply, **_sparse)
def guess(req: S.Guess, reg: Registry, store: Store) -> dict:
    """Commit a guess: the reply reveals the token, both guesses and the model's top-5, and
    the state for the next guess (or the final summary)."""
    g = store.session(req.session, "beat")
    with g.lock:
        return beat.guess(reg, g, req.guess, req.confidence)


@router.get("/api/game/memory/levels", response_model=S.MemoryLevels)
def memory_levels(reg: Registry, kind: str = "agreement", seed: int = 0) -> dict:
    """The levels of one challenge (prompts and options; the answers stay on the server)."""
    return memory.levels(reg, kind, seed)


@router.post("/api/game/memory/answer", response_model=S.MemoryResult, **_sparse)
def memory_answer(req: S.MemoryAnswer, reg: Registry) -> dict:
    """The right answer and what every served next-word model would have picked."""
    return memory.answer(reg, req.kind, req.level, req.seed, req.choice)


@router.get("/api/game/memory/curve", response_model=S.MemoryCurve, **_sparse)
def memory_curve(reg: Registry, kind: str = "agreement", items: int = memory.CURVE_ITEMS) -> dict:
    """Accuracy, paired accuracy and clue effect per model and level (see ``memory.curve``)."""
    return memory.curve(reg, kind, items)


@router.post("/api/game/hidden/new", response_model=S.HiddenStarted)
def hidden_new(req: S.HiddenNew, store: Store) -> dict:
    h = hidden.new_hidden(req.slots, req.length, req.seed)
    return {
        "session": store.add(h),
        "slots": req.slots,
        "length": req.length,
        "keys": list(hidden.KEYS),
    }


@router.post("/api/game/hidden/next", response_model=S.HiddenNext, **_sparse)
def hidden_next(req: S.HiddenStep, store: Store) -> dict:
    """The next fact, one at a time; after the last one, the question."""
    h = store.session(req.session, "hidden")
    with h.lock:
        return hidden.next_fact(h)


@router.post("/api/game/hidden/answer", response_model=S.HiddenResult)
def hidden_answer(req: S.HiddenAnswer, store: Store) -> dict:
    h = store.session(req.session, "hidden")
    with h.lock:
        return hidden.answer(h, req.answer)
