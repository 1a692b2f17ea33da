"""The ``/playground`` page and its API: train one or two recurrent networks live (the worker
of ``rnnlab.tasks.playground``) and stream what they do to the page.

* ``GET /api/playground/knobs``: every knob with its range, the presets, the server's limits;
* ``POST /api/playground/run`` (``RunKnobs``): a new run for this browser session (a cookie),
  paused at step 0; 503 when the server trains as many runs as it allows;
* ``POST /api/playground/run/{play|pause|step|reset}``, ``DELETE /api/playground/run``;
* ``GET /api/playground/run``: the latest snapshot and the whole curves;
* ``GET /api/playground/stream``: server-sent events, one ``StreamEvent`` per snapshot (at
  least 4 a second while playing) with the curve points since the previous event; the run
  is cancelled when the stream's client goes away.

Runs are ephemeral: they live in this process only and a restart forgets them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any, Literal

from annotated_types import Ge, Le
from fastapi import APIRouter, Cookie, HTTPException, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel

from rnnlab.serve.deps import Playground
from rnnlab.tasks.playground.config import (
    CLIP_NORM,
    PRESETS,
    SOLVED,
    DataKnobs,
    LaneKnobs,
    Limits,
    RunKnobs,
)
from rnnlab.tasks.playground.worker import Busy, Job

router = APIRouter()
STATIC = Path(__file__).resolve().parent.parent / "static"
COOKIE = "rnnlab_playground"
POLL_S = 0.05  # how often a stream looks for a new snapshot
KEEPALIVE_S = 5.0  # a comment line this often, so a closed page is noticed while paused


Sid = Annotated[str | None, Cookie(alias=COOKIE)]


# ---- response models -----------------------------------------------------------------------


class Knob(BaseModel):
    name: str
    scope: Literal["data", "lane"]
    type: str
    default: Any
    min: float | None = None
    max: float | None = None
    choices: list[str] | None = None
    help: str = ""


class KnobsInfo(BaseModel):
    knobs: list[Knob]
    presets: list[dict[str, Any]]
    limits: dict[str, float]
    solved: float
    clip_norm: float


class RunInfo(BaseModel):
    id: str
    state: str
    reason: str
    train_seconds: float
    version: int
    generation: int


class Answer(BaseModel):
    question: str
    target: str
    answer: str
    correct: float


class LaneSnapshot(BaseModel):
    label: str
    cell: str
    train_loss: float | None
    train_score: float | None
    val_loss: float | None
    val_score: float | None
    grad_norm: list[float | None]
    hidden: list[list[float | None]]
    saturation: dict[str, float | None]
    answer: Answer


class Snapshot(RunInfo):
    step: int
    score_name: str
    chance: float
    lanes: list[LaneSnapshot]
    verdict: str


class Curves(BaseModel):
    """``[step, loss, score]`` rows: every training batch, and validation at each snapshot."""

    train: list[list[float | None]]
    evals: list[list[float | None]]


class RunState(RunInfo):
    knobs: RunKnobs
    snapshot: Snapshot | None
    curves: list[Curves]


class StreamEvent(Snapshot):
    """One server-sent event: a snapshot, the curve points since the previous event, and
    ``restart`` when a reset began the curves again."""

    curves: list[Curves]
    restart: bool


# ---- routes --------------------------------------------------------------------------------


@router.get("/playground", include_in_schema=False)
def playground_page() -> FileResponse:
    return FileResponse(STATIC / "playground.html", headers={"Cache-Control": "no-cache"})


def _knobs(scope: Literal["data", "lane"], cls: type[BaseModel]) -> list[Knob]:
    out = []
    for name, f in cls.model_fields.items():
        ann = f.annotation
        choices = list(getattr(ann, "__args__", ())) if "Literal" in str(ann) else None
        out.append(
            Knob(
                name=name,
                scope=scope,
                type="choice" if choices else getattr(ann, "__name__", str(ann)),
                default=f.default,
                min=next((m.ge for m in f.metadata if isinstance(m, Ge)), None),
                max=next((m.le for m in f.metadata if isinstance(m, Le)), None),
                choices=choices,
                help=f.description or "",
            )
        )
    return out


@router.get("/api/playground/knobs", response_model=KnobsInfo)
def knobs(mgr: Playground) -> dict[str, Any]:
    """Every knob with its allowed range (the page builds its controls from this)."""
    lim: Limits = mgr.limits
    return {
        "knobs": _knobs("data", DataKnobs) + _knobs("lane", LaneKnobs),
        "presets": PRESETS,
        "limits": dataclasses.asdict(lim),
        "solved": SOLVED,
        "clip_norm": CLIP_NORM,
    }


@router.post("/api/playground/run", response_model=RunInfo)
def start(req: RunKnobs, response: Response, mgr: Playground, sid: Sid = None) -> dict[str, Any]:
    """A new run for this session (its previous one stops), paused at step 0."""
    if not sid:
        sid = secrets.token_urlsafe(16)
        response.set_cookie(COOKIE, sid, httponly=True, samesite="strict")
    try:
        job = mgr.start(sid, req)
    except Busy as e:
        raise HTTPException(503, str(e), headers={"Retry-After": "10"}) from None
    return job.info()


@router.post("/api/playground/run/{action}", response_model=RunInfo)
def control(
    action: Literal["play", "pause", "step", "reset"], mgr: Playground, sid: Sid = None
) -> dict[str, Any]:
    """Play, pause, take one step (pauses), or reset to step 0 with the same knobs."""
    return mgr.control(sid, action).info()


@router.delete("/api/playground/run", response_model=RunInfo)
def stop(mgr: Playground, sid: Sid = None) -> dict[str, Any]:
    """Stop this session's run (it frees its slot; the last snapshot stays readable)."""
    mgr.stop(sid)
    return mgr.get(sid).info()


def _curves(job: Job, sent: list[list[int]] | None = None) -> list[dict[str, list]]:
    """The lanes' curves, from the rows ``sent`` (per lane: train, evals) on; updates it."""
    run = job.run
    if run is None:
        return []
    out = []
    for i, lane in enumerate(run.lanes):
        t0, e0 = sent[i] if sent else (0, 0)
        train, evals = lane.train[t0:], lane.evals[e0:]
        if sent:
            sent[i] = [t0 + len(train), e0 + len(evals)]
        out.append({"train": train, "evals": evals})
    return out


@router.get("/api/playground/run", response_model=RunState)
def state(mgr: Playground, sid: Sid = None) -> dict[str, Any]:
    """This session's run: its knobs, latest snapshot and whole curves (also counts as the
    page being there, like the stream)."""
    job = mgr.get(sid)
    job.touch()
    with job.cond:
        snap, info, curves = job.snapshot, job.info(), _curves(job)
    return {**info, "knobs": job.knobs, "snapshot": snap, "curves": curves}


@router.get(
    "/api/playground/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "StreamEvent JSON"}},
)
async def stream(request: Request, mgr: Playground, sid: Sid = None) -> StreamingResponse:
    """Server-sent events of this session's run (each ``data:`` line a ``StreamEvent``); ends
    when the run ends; closing it cancels the run."""
    job = mgr.get(sid)
    job.touch()
    return StreamingResponse(
        _events(request, job),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(request: Request, job: Job) -> AsyncIterator[str]:
    version, generation, sent = 0, -1, []
    quiet = 0.0
    try:
        yield "retry: 2000\n\n"
        while True:
            if job.version > version and job.snapshot is not None:
                with job.cond:
                    snap, version = job.snapshot, job.version
                    restart = snap["generation"] != generation
                    if restart:
                        generation = snap["generation"]
                        sent = [[0, 0] for _ in (job.run.lanes if job.run else [])]
                    curves = _curves(job, sent) if job.run is not None else []
                job.touch()
                quiet = 0.0
                event = {**snap, "curves": curves, "restart": restart}
                yield f"data: {json.dumps(event, separators=(',', ':'))}\n\n"
                if snap["state"] not in ("starting", "paused", "playing"):
                    return  # finished, cancelled or failed: nothing more will come
            elif quiet >= KEEPALIVE_S:
                quiet = 0.0
                if await request.is_disconnected():
                    return
                yield ": keepalive\n\n"
                job.touch()
            await asyncio.sleep(POLL_S)
            quiet += POLL_S
    finally:
        job.cancel("the page went away")  # no-op when the run already ended
