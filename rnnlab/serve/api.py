"""The JSON API: ``/api/models``, ``/api/trace``, ``/api/gradients``, ``/api/generate``,
``/api/predict``, ``/api/neuron``, ``/api/models/{name}`` (model card), ``/api/pages``.

Bad input → 422 with a message; an unknown model → 404 naming the models there are.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from rnnlab.serve import analysis
from rnnlab.serve.registry import LoadedModel, ModelRegistry
from rnnlab.serve.schemas import (
    GenerateRequest,
    GradientsRequest,
    NeuronRequest,
    PredictRequest,
    TraceRequest,
)

router = APIRouter(prefix="/api")


def get_model(request: Request, name: str) -> LoadedModel:
    """The model ``name`` from the app's registry, or a 404 listing the models."""
    reg: ModelRegistry = request.app.state.registry
    try:
        return reg.get(name)
    except KeyError:
        raise HTTPException(
            404, f"unknown model {name!r}; available models: {', '.join(reg.names()) or 'none'}"
        ) from None


@router.get("/models")
def models(request: Request) -> dict[str, Any]:
    reg: ModelRegistry = request.app.state.registry
    out = []
    for n in reg.names():
        lm = reg.get(n)
        out.append(
            {
                "name": n,
                "label": lm.label,
                **lm.info,
                "level": lm.tokenizer.level,
                "vocab_size": len(lm.tokenizer),
            }
        )
    return {"models": out, "limits": {"chars": analysis.MAX_CHARS, "tokens": analysis.MAX_TOKENS}}


@router.get("/models/{name}")
def model_card(name: str, request: Request) -> dict[str, Any]:
    return analysis.card(get_model(request, name))


@router.post("/trace")
def trace(req: TraceRequest, request: Request) -> dict[str, Any]:
    return analysis.trace(get_model(request, req.model), req.text, k=req.k)


@router.post("/gradients")
def gradients(req: GradientsRequest, request: Request) -> dict[str, Any]:
    return analysis.gradients(get_model(request, req.model), req.text, req.position)


@router.post("/generate")
def generate(req: GenerateRequest, request: Request) -> dict[str, Any]:
    return analysis.generate(
        get_model(request, req.model),
        req.prompt,
        req.length,
        req.temperature,
        req.top_k,
        req.seed,
        req.k,
    )


@router.post("/predict")
def predict(req: PredictRequest, request: Request) -> dict[str, Any]:
    return analysis.predict(get_model(request, req.model), req.text, req.k)


@router.post("/neuron")
def neuron(req: NeuronRequest, request: Request) -> dict[str, Any]:
    return analysis.neuron(get_model(request, req.model), req.layer, req.direction, req.unit, req.k)


@router.get("/pages")
def pages(request: Request) -> dict[str, Any]:
    """The pages this server has, for every page's nav bar."""
    return {"pages": request.app.state.pages}
