"""The explorer's ``/memory`` page: ‖∂L/∂h_t‖ against the distance from the loss, one curve per
cell, on the same memory task, for any sequence length (a slider), plus the sweep's results.

* ``GET /api/memory/curves?task=adding&length=200&cells=rnn,gru,lstm,mingru`` — freshly
  initialised models (seeded), gradient curves from the engine's trace
  (``rnnlab.tasks.memory.curves.grad_norm_curve``): ``grad_norm[d]`` is the norm at distance d.
* ``GET /api/memory/sweep`` — the table and trained curves of ``rnnlab memory sweep`` if one
  was run (``$RNNLAB_MEMORY_SWEEP``, default ``runs/memory-sweep/sweep.json``).
"""

from __future__ import annotations

import json
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import torch
from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import FileResponse

from rnnlab.errors import InputError
from rnnlab.tasks.memory.curves import grad_norm_curve
from rnnlab.tasks.memory.data import fixed_set, task_spec
from rnnlab.tasks.memory.model import MemoryModel

router = APIRouter()
STATIC = Path(__file__).resolve().parent.parent / "static"
MAX_LENGTH = 1000
MAX_CELLS = 6
BATCH = 16
_LOCK = threading.Lock()


@router.get("/memory", include_in_schema=False)
def memory_page() -> FileResponse:
    return FileResponse(STATIC / "memory.html", headers={"Cache-Control": "no-cache"})


@lru_cache(maxsize=128)
def _curve(task: str, length: int, cell: str, hidden: int, seed: int) -> list[float]:

    # one thread: on a busy 2-core machine this was 40x faster than torch's default (a GRU at
    # T=500: 0.25 s instead of 9.5 s); the lock keeps concurrent requests from fighting over it
    with _LOCK:
        torch.manual_seed(seed)
        model = MemoryModel(task_spec(task), cell, hidden, forget_bias=1.0)
        x, y = fixed_set(task, length, BATCH, seed, 2)
        g = grad_norm_curve(model, x, y, threads=1)
    return g[::-1]  # index = distance from the end of the sequence


@router.get("/api/memory/curves")
def curves(
    task: Literal["adding", "copy", "recall", "parity"] = "adding",
    length: int = Query(100, ge=2, le=MAX_LENGTH, description="Sequence length / delay T."),
    cells: str = Query("rnn,gru,lstm,mingru", max_length=100),
    hidden: int = Query(64, ge=1, le=256),
    seed: int = Query(0, ge=0, le=2**31),
) -> dict[str, Any]:
    """Gradient norm by distance at initialisation for each cell (cells this build lacks are
    listed under ``unavailable``)."""
    names = [c.strip() for c in cells.split(",") if c.strip()]
    if not names or len(names) > MAX_CELLS:
        raise HTTPException(422, f"give 1 to {MAX_CELLS} comma-separated cells")
    out, missing = [], []
    for cell in names:
        try:
            g = _curve(task, length, cell, hidden, seed)
        except InputError as e:
            missing.append({"cell": cell, "reason": str(e)})
            continue
        out.append({"cell": cell, "grad_norm": g})
    if not out:
        raise HTTPException(422, "; ".join(m["reason"] for m in missing))
    return {"task": task, "length": length, "hidden": hidden, "curves": out, "unavailable": missing}


def _sweep_path() -> Path:
    return Path(os.environ.get("RNNLAB_MEMORY_SWEEP", "runs/memory-sweep/sweep.json"))


@router.get("/api/memory/sweep")
def sweep_results() -> dict[str, Any]:
    """The last sweep's verdicts and trained gradient curves, or ``available: false``."""
    p = _sweep_path()
    how = "run `rnnlab memory sweep` (it writes runs/memory-sweep/sweep.json), then reload"
    if not p.is_file():
        return {"available": False, "path": p.name, "how": how}  # a name: no server paths
    try:
        runs = json.loads(p.read_text(encoding="utf-8"))
        rows = [
            {
                "cell": r["config"]["cell"],
                "length": r["config"]["length"],
                "task": r["config"]["memory_task"],
                "steps": r["config"]["steps"],
                "verdict": r["verdict"],
                "test": r["test"],
                "solved_at_step": r.get("solved_at_step"),
                "grad_init": r["grad_norm"]["init"][::-1],
                "grad_trained": r["grad_norm"]["trained"][::-1],
            }
            for r in runs
        ]
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise HTTPException(500, f"{p.name} is not a sweep result ({e})") from None
    return {"available": True, "path": p.name, "runs": rows}
