"""The ``/inside`` page: find the cells, select & match, connectivity, intervene
(``rnnlab.tasks.inspect`` computes; this router validates, caches per model and answers).

* ``POST /api/inside/cells`` — top units per detector and gate saturation on held-out text;
* ``POST /api/inside/activations`` — one unit's value over a text (Karpathy-style colour);
* ``POST /api/inside/select`` — units on over a range, and held-out ranges where they are on;
* ``POST /api/inside/connectivity`` — ‖∂ log p(token_t) / ∂ x_s‖ for every earlier s;
* ``POST /api/inside/intervene`` — a unit clamped from a step on: what changes.

The held-out states are read once per model (``MatchIndex``, first ``HELDOUT_TOKENS``
tokens) and kept in the model's cache; the cell table is computed from them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse

from rnnlab.errors import InputError
from rnnlab.serve.analysis import check_unit, encode
from rnnlab.serve.deps import model_in
from rnnlab.serve.registry import LoadedModel
from rnnlab.serve.views import inside_schemas as S
from rnnlab.tasks.inspect.cells import CellTable, table_of
from rnnlab.tasks.inspect.connectivity import connectivity as grad_of_inputs
from rnnlab.tasks.inspect.intervene import intervene as run_intervention
from rnnlab.tasks.inspect.match import MatchIndex, match_dicts, units_on
from rnnlab.tasks.inspect.text import stream_states

router = APIRouter()
STATIC = Path(__file__).resolve().parent.parent / "static"
HELDOUT_TOKENS = 10000
PASSAGE = 400  # held-out tokens shown as coloured text


@router.get("/inside", include_in_schema=False)
def inside_page() -> FileResponse:
    return FileResponse(STATIC / "inside.html", headers={"Cache-Control": "no-cache"})


def heldout_index(lm: LoadedModel) -> MatchIndex:
    """The model's held-out states, read on first use and cached with their cell table."""
    with lm.lock:
        if "inside-index" not in lm.cache:
            text = lm.heldout_text()
            if not text.strip():
                raise InputError(f"no held-out text is known for {lm.name}: pick a shipped model")
            index = MatchIndex.build(lm.model, text, HELDOUT_TOKENS)
            table = table_of(index.tokens, index.states, lm.tokenizer.level)
            index.states.gates.clear()  # only the table needs them: ~60 MB less for a 512-unit LSTM
            lm.cache["inside-cells"], lm.cache["inside-index"] = table, index
        return lm.cache["inside-index"]


def cell_table(lm: LoadedModel) -> CellTable:
    heldout_index(lm)
    return lm.cache["inside-cells"]


def _key(lm: LoadedModel, req: S.UnitRef, unit: int = 0) -> tuple[str, int, int]:
    check_unit(lm, req.layer, req.direction, unit)
    if req.state == "c" and lm.info["cell"] != "lstm":
        raise InputError(f"{lm.label} has no cell state c (an LSTM has): use state 'h'")
    return (req.state, req.layer, req.direction)


@router.post("/api/inside/cells", response_model=S.Cells)
def cells(req: S.CellsRequest, lm: LoadedModel = model_in(S.CellsRequest)) -> dict[str, Any]:
    """The units that track each detector on held-out text, and the gates' saturation."""
    t0 = time.perf_counter()
    table = cell_table(lm)
    n = min(PASSAGE, len(table.tokens))
    passage = {
        "tokens": table.tokens[:n],
        "detectors": {d: v[:n] for d, v in table.detectors.items()},
    }
    return {
        "model": lm.name,
        "level": lm.tokenizer.level,
        **table.to_dict(req.k),
        "passage": passage,
        "seconds": round(time.perf_counter() - t0, 3),
    }


@router.post("/api/inside/activations", response_model=S.Activations)
def activations(
    req: S.ActivationsRequest, lm: LoadedModel = model_in(S.ActivationsRequest)
) -> dict[str, Any]:
    """One unit's value after each token of ``text`` (or of the held-out passage)."""
    key = _key(lm, req, req.unit)
    if req.text:
        tokens, ids = encode(lm, req.text)
        values = stream_states(lm.model, ids).values[key][:, req.unit]
        source = "text"
    else:
        index = heldout_index(lm)
        n = min(PASSAGE, len(index.tokens))
        tokens, values, source = (
            index.tokens[:n],
            index.states.values[key][:n, req.unit],
            "held-out",
        )
    return {
        "tokens": tokens,
        "values": values.double().round(decimals=4).tolist(),
        "source": source,
    }


@router.post("/api/inside/select", response_model=S.Selected)
def select(req: S.SelectRequest, lm: LoadedModel = model_in(S.SelectRequest)) -> dict[str, Any]:
    """The units above ``threshold`` at every token of ``start..end`` of ``text``, and the
    held-out ranges where all of them are on."""
    key = _key(lm, req)
    index = heldout_index(lm)
    t0 = time.perf_counter()
    tokens, ids = encode(lm, req.text)
    values = stream_states(lm.model, ids).values[key]
    if req.end >= len(tokens) or req.start > req.end:
        raise InputError(f"select a range inside 0..{len(tokens) - 1} with start <= end")
    units = units_on(values.numpy(), req.start, req.end, req.threshold)
    detector = req.detector or None
    if detector is not None and detector not in index.detectors:
        raise InputError(f"unknown detector {detector!r}; known: {', '.join(index.detectors)}")
    context = 20 if lm.tokenizer.level == "char" else 6  # tokens shown either side
    found = index.search(
        key, units, req.threshold, req.end - req.start + 1, req.k, detector, context
    )
    return {
        "tokens": tokens,
        "units": units,
        "matches": match_dicts(found),
        "detector": detector,
        "seconds": round(time.perf_counter() - t0, 4),
    }


@router.post("/api/inside/connectivity", response_model=S.ConnectivityOut)
def connectivity(
    req: S.ConnectivityRequest, lm: LoadedModel = model_in(S.ConnectivityRequest)
) -> dict[str, Any]:
    """‖∂ log p(token t) / ∂ x_s‖ for every input s before t (exact, the engine's backward)."""
    encode(lm, req.text)  # the page's length limits, with their messages
    with lm.lock:  # the backward writes the layer's buffers: one request at a time per model
        c = grad_of_inputs(lm.model, req.text, req.t)
    return {"model": lm.name, "label": lm.label, **c.to_dict()}


@router.post("/api/inside/intervene", response_model=S.Intervened)
def intervene(
    req: S.InterveneRequest, lm: LoadedModel = model_in(S.InterveneRequest)
) -> dict[str, Any]:
    """The next-token distribution and a continuation, with and without the unit set."""
    _key(lm, req, req.unit)
    encode(lm, req.text)
    out = run_intervention(
        lm.model, req.text, req.layer, req.unit, req.from_step, req.value, req.state,
        req.length, req.temperature, req.seed,
    )  # fmt: skip
    return out.to_dict()
