"""Request and response bodies of the ``/inside`` page's API (``views/inside.py``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from rnnlab.serve.schemas import Out, Text

Model = Field(..., max_length=100, description="a model name from /api/models")
State = Field("h", description='"h" (the output state) or "c" (an LSTM\'s cell state)')


class UnitRef(BaseModel):
    state: Literal["h", "c"] = State
    layer: int = Field(0, ge=0)
    direction: int = Field(0, ge=0, le=1)


class CellsRequest(BaseModel):
    model: str = Model
    k: int = Field(5, ge=1, le=20, description="units listed per detector")


class ActivationsRequest(UnitRef):
    model: str = Model
    unit: int = Field(..., ge=0)
    text: str | None = Field(None, max_length=2000, description="default: a held-out passage")


class SelectRequest(UnitRef):
    model: str = Model
    text: str = Text
    start: int = Field(..., ge=0, description="first selected token")
    end: int = Field(..., ge=0, description="last selected token (inclusive)")
    threshold: float = Field(0.3, ge=-10, le=10, description="a unit is on above this")
    k: int = Field(8, ge=1, le=30, description="matches returned")
    detector: str | None = Field(None, max_length=60, description="the track beside matches")


class ConnectivityRequest(BaseModel):
    model: str = Model
    text: str = Text
    t: int | None = Field(None, ge=1, description="the predicted token (default: the last)")


class InterveneRequest(UnitRef):
    model: str = Model
    text: str = Text
    unit: int = Field(..., ge=0)
    from_step: int = Field(0, ge=0, description="the first token after which the unit is set")
    value: float = Field(0.0, ge=-50, le=50, description="the value it is set to (0: zeroed)")
    length: int = Field(20, ge=1, le=100, description="tokens generated")
    temperature: float = Field(0.0, ge=0.0, le=5.0, description="0: greedy")
    seed: int = Field(0, ge=0, le=2**31 - 1)


class UnitR(Out):
    detector: str
    state: str
    layer: int
    direction: int
    unit: int
    r: float = Field(description="Pearson r of the unit with the detector on held-out text")


class Saturation(Out):
    layer: int
    direction: int
    gate: str
    left: float = Field(description="fraction of values < 0.1")
    right: float = Field(description="fraction of values > 0.9")
    unit_left: list[float]
    unit_right: list[float]


class Passage(Out):
    tokens: list[str]
    detectors: dict[str, list[float]]


class Cells(Out):
    model: str
    level: str
    n_tokens: int
    top: dict[str, list[UnitR]]
    constant: list[str] = Field(description="detectors that never change on the held-out text")
    saturation: list[Saturation]
    passage: Passage
    seconds: float


class Activations(Out):
    tokens: list[str]
    values: list[float]
    source: str = Field(description='"text" or "held-out"')


class MatchOut(Out):
    start: int
    end: int
    score: float = Field(description="the selected units' mean value over the range")
    tokens: list[str]
    offset: int = Field(description="index in tokens where the match starts")
    track: list[float]


class Selected(Out):
    tokens: list[str]
    units: list[int] = Field(description="units on throughout the selected range")
    matches: list[MatchOut]
    detector: str | None
    seconds: float


class ConnectivityOut(Out):
    model: str
    label: str
    tokens: list[str]
    t: int
    logp: float = Field(description="log p(tokens[t]) given the tokens before it")
    grad: list[float] = Field(description="‖∂ log p / ∂ x_s‖ for s = 0..t-1")


class RunOut(Out):
    top: list[tuple[str, float]]
    continuation: list[str]
    unit: list[float] = Field(description="the unit's value after each step")


class Intervened(Out):
    tokens: list[str]
    base: RunOut
    clamped: RunOut
