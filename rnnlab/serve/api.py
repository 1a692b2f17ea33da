"""The JSON API: ``/api/models``, ``/api/trace``, ``/api/gradients`` (one model) and
``/api/gradients/compare`` (two, with the verdict), ``/api/generate``, ``/api/predict``,
``/api/neuron``, ``/api/models/{name}`` (model card), ``/api/compare`` (the architectures side
by side), ``/api/pages``.

Bad input → 422 with a message; an unknown model → 404 naming the models there are. Every
reply is declared with ``response_model`` (see ``schemas``), so ``/openapi.json`` has them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from rnnlab.serve import analysis, cards
from rnnlab.serve import gradients as grads
from rnnlab.serve import schemas as S
from rnnlab.serve.deps import Registry, model_in, model_named, path_model
from rnnlab.serve.registry import LoadedModel, ModelUnavailable

router = APIRouter(prefix="/api")
# conditional keys (a neuron without held-out text has ``note``, not ``mean``) stay absent
_sparse = {"response_model_exclude_unset": True}


@router.get("/models", response_model=S.Models)
def models(reg: Registry) -> dict[str, Any]:
    out = []
    for n in reg.names():
        try:
            lm = reg.get(n)
        except ModelUnavailable:
            continue  # now listed below
        out.append({**lm.listing(), **lm.info})
    return {
        "models": out,
        "limits": {"chars": analysis.MAX_CHARS, "tokens": analysis.MAX_TOKENS},
        "unavailable": [{"name": n, "reason": r} for n, r in reg.unavailable.items()],
    }


@router.get("/models/{name}", response_model=S.Card)
def model_card(lm: LoadedModel = Depends(path_model)) -> dict[str, Any]:
    return cards.card(lm)


@router.get("/compare", response_model=S.Compare)
def compare(reg: Registry, group: str = Query("words", max_length=40)) -> dict[str, Any]:
    """The models of ``group`` ("words" by default) ranked by held-out perplexity."""
    return cards.compare(reg, group)


@router.post("/trace", response_model=S.Trace)
def trace(req: S.TraceRequest, lm: LoadedModel = model_in(S.TraceRequest)) -> dict[str, Any]:
    return analysis.trace(lm, req.text, k=req.k)


@router.post("/gradients", response_model=S.Gradients)
def gradients(
    req: S.GradientsRequest, lm: LoadedModel = model_in(S.GradientsRequest)
) -> dict[str, Any]:
    return grads.gradients(lm, req.text, req.position)


@router.post("/gradients/compare", response_model=S.GradientsCompared)
def gradients_compare(req: S.CompareRequest, reg: Registry) -> dict[str, Any]:
    """Both panels of the gradient view and the verdict in words, on the same text."""
    # word w of the text: a next-word model predicts it at step w (after the start token and
    # w words), a fill-in model at step w too (it has no start token)
    panels = [grads.gradients(model_named(reg, n), req.text, req.word) for n in req.models]
    p = panels[0]
    at = grads.default_word(req.text, p["target_index"] - p["offset"]) if req.at is None else req.at
    return {"panels": panels, "verdict": grads.gradient_verdict(*panels, at=at)}


@router.post("/generate", response_model=S.Generated)
def generate(
    req: S.GenerateRequest, lm: LoadedModel = model_in(S.GenerateRequest)
) -> dict[str, Any]:
    return analysis.generate(
        lm, req.prompt, req.length, req.temperature, req.top_k, req.seed, req.k, req.sentences
    )


@router.post("/predict", response_model=S.Prediction, **_sparse)
def predict(req: S.PredictRequest, lm: LoadedModel = model_in(S.PredictRequest)) -> dict[str, Any]:
    return analysis.predict(lm, req.text, req.k, req.temperature, req.word)


@router.post("/neuron", response_model=S.Neuron, **_sparse)
def neuron(req: S.NeuronRequest, lm: LoadedModel = model_in(S.NeuronRequest)) -> dict[str, Any]:
    return analysis.neuron(lm, req.layer, req.direction, req.unit, req.k)


@router.get("/pages", response_model=S.Pages)
def pages(request: Request) -> dict[str, Any]:
    """The pages this server has, for every page's nav bar."""
    return {"pages": request.app.state.pages}
