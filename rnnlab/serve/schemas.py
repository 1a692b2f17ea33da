"""Request bodies of the JSON API (pydantic validates them; errors become a 422 message)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from rnnlab.serve.analysis import MAX_CHARS

Text = Field(..., max_length=MAX_CHARS, description=f"the text, at most {MAX_CHARS} characters")


class TraceRequest(BaseModel):
    model: str = Field(..., max_length=100)
    text: str = Text
    k: int = Field(5, ge=1, le=20, description="how many top predictions per step")


class GradientsRequest(BaseModel):
    model: str = Field(..., max_length=100)
    text: str = Text
    position: int | None = Field(None, ge=0, description="step whose loss is differentiated")


class GenerateRequest(BaseModel):
    model: str = Field(..., max_length=100)
    prompt: str = Text
    length: int = Field(20, ge=1, le=100)
    temperature: float = Field(1.0, gt=0.0, le=5.0)
    top_k: int | None = Field(None, ge=1, le=1000)
    seed: int | None = Field(None, ge=0, le=2**31 - 1)
    k: int = Field(5, ge=1, le=20)


class PredictRequest(BaseModel):
    model: str = Field(..., max_length=100)
    text: str = Text
    k: int = Field(5, ge=1, le=50)


class NeuronRequest(BaseModel):
    model: str = Field(..., max_length=100)
    layer: int = Field(0, ge=0)
    direction: int = Field(0, ge=0, le=1)
    unit: int = Field(..., ge=0)
    k: int = Field(15, ge=1, le=50)
