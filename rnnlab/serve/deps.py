"""FastAPI dependencies of the explorer: the app's model registry, the model a request names
(404 listing the models there are), the game's session store and the playground's runs.

>>> @router.post("/api/trace")                                          # doctest: +SKIP
... def trace(req: TraceRequest, lm: LoadedModel = model_in(TraceRequest)): ...
"""

# no `from __future__ import annotations` here: FastAPI reads the body type of the dependency
# ``model_in`` builds from the live annotation, which a string could not name

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from pydantic import BaseModel

from rnnlab.serve.game.store import SessionStore
from rnnlab.serve.registry import LoadedModel, ModelRegistry, ModelUnavailable
from rnnlab.tasks.playground.worker import Manager


def get_registry(request: Request) -> ModelRegistry:
    """The registry ``create_app`` was given."""
    return request.app.state.registry


Registry = Annotated[ModelRegistry, Depends(get_registry)]


def model_named(reg: ModelRegistry, name: str) -> LoadedModel:
    """The model ``name``; a 404 listing the models, or 503 with the reason it cannot load."""
    try:
        return reg.get(name)
    except ModelUnavailable as e:
        raise HTTPException(503, str(e)) from None
    except KeyError:
        raise HTTPException(
            404, f"unknown model {name!r}; available models: {', '.join(reg.names()) or 'none'}"
        ) from None


def path_model(name: str, reg: Registry) -> LoadedModel:
    """The model named in the path (``/api/models/{name}``)."""
    return model_named(reg, name)


def model_in(schema: type[BaseModel]) -> Any:
    """``Depends``: the model named by the ``model`` field of a ``schema`` request body (the
    endpoint's body parameter must be called ``req`` too: FastAPI then parses it once)."""

    def dep(req: schema, reg: Registry) -> LoadedModel:  # type: ignore[valid-type]
        return model_named(reg, req.model)

    return Depends(dep)


def _on_app(request: Request, name: str, make: Callable[[], Any]) -> Any:
    """``app.state.<name>``, made by ``make()`` on first use (a test may put its own there)."""
    state = request.app.state
    if getattr(state, name, None) is None:
        setattr(state, name, make())
    return getattr(state, name)


def get_store(request: Request) -> SessionStore:
    """The game's session store."""
    return _on_app(request, "game_store", SessionStore)


Store = Annotated[SessionStore, Depends(get_store)]


def get_playground(request: Request) -> Manager:
    """The playground's runs (``rnnlab.tasks.playground.worker.Manager``)."""
    return _on_app(request, "playground", Manager)


Playground = Annotated[Manager, Depends(get_playground)]
