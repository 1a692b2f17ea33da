"""Request and response bodies of the JSON API: pydantic validates requests (errors become a
422 message); the responses are declared so ``/openapi.json`` documents them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

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


class CompareRequest(BaseModel):
    models: list[str] = Field(..., min_length=2, max_length=2, description="left, right")
    text: str = Text
    word: int | None = Field(
        None, ge=0, description="index of the word whose loss is differentiated (default: last)"
    )
    at: int | None = Field(
        None, ge=0, description="word the verdict compares at (default: a recall line's key, "
        "else the first word)",
    )  # fmt: skip


class GenerateRequest(BaseModel):
    model: str = Field(..., max_length=100)
    prompt: str = Text
    length: int = Field(20, ge=1, le=100)
    sentences: int = Field(1, ge=1, le=5, description="stop after this many sentences")
    temperature: float = Field(1.0, gt=0.0, le=5.0)
    top_k: int | None = Field(None, ge=1, le=1000)
    seed: int | None = Field(None, ge=0, le=2**31 - 1)
    k: int = Field(5, ge=1, le=20)


class PredictRequest(BaseModel):
    model: str = Field(..., max_length=100)
    text: str = Text
    k: int = Field(5, ge=1, le=50)
    temperature: float = Field(1.0, gt=0.0, le=5.0)
    word: str | None = Field(None, max_length=50, description="also: this word's p and rank")


class NeuronRequest(BaseModel):
    model: str = Field(..., max_length=100)
    layer: int = Field(0, ge=0)
    direction: int = Field(0, ge=0, le=1)
    unit: int = Field(..., ge=0)
    k: int = Field(15, ge=1, le=50)


# ---- responses (the shapes ``analysis`` returns; declared so /openapi.json documents them) ---

Top = list[tuple[str, float]]  # [[token, probability], ...], most likely first
Unk = Field(description="aligned 1:1 with the tokens: True where the model reads <unk>")


class Out(BaseModel):
    """A reply body; a key ``analysis`` adds later passes through rather than being dropped."""

    model_config = ConfigDict(extra="allow")


class Arch(Out):
    """Architecture facts read off the recurrent layer (``registry.model_info``)."""

    cell: str
    layers: int
    directions: int
    hidden_size: int
    params: int
    causal: bool = Field(description="False for a fill-in-the-blank (bidirectional) model")


class ModelEntry(Arch):
    name: str
    label: str
    level: str
    vocab_size: int
    group: str = Field(description='"words", "chars", "recall" (the gradient view\'s pair), ...')


class Limits(Out):
    chars: int
    tokens: int


class UnavailableModel(Out):
    name: str
    reason: str


class Models(Out):
    models: list[ModelEntry]
    limits: Limits
    unavailable: list[UnavailableModel] = []  # models whose files could not be loaded


class Step(Out):
    top: Top
    target: str | None
    p: float | None
    bits: float | None
    target_unk: bool = Field(
        description="the target is read as <unk>: p and bits are those of <unk>, not the word"
    )


class Projection(Out):
    points: list[list[float]]
    explained: list[float]
    basis: str


class Trace(Arch):
    model: str
    label: str
    tokens: list[str]
    ids: list[int]
    unk: list[bool] = Unk
    hidden: list[list[list[list[float]]]] = Field(description="[layer][direction][step][unit]")
    gates: list[list[dict[str, list[list[float]]]]] = Field(
        description="[layer][direction]{gate: [step][unit]}"
    )
    pca: list[list[Projection]]
    steps: list[Step]
    mean_bits: float | None = Field(description="mean surprise over the known targets")
    mean_bits_all: float | None = Field(description="mean surprise over every target")
    unk_targets: int = Field(description="targets read as <unk>, left out of mean_bits")


class Gradients(Arch):
    model: str
    label: str
    tokens: list[str]
    unk: list[bool] = Unk
    position: int
    target: str
    target_index: int
    target_unk: bool = Field(description="the target is read as <unk>: the loss is of <unk>")
    loss: float
    offset: int = Field(description="steps before the first word (1: the start token)")
    ref_step: int = Field(description="the step that feeds the loss (relative = 1.0 there)")
    norms: list[list[list[float]]] = Field(description="[layer][direction][step] ‖∂L/∂h_t‖")
    series: list[float] = Field(description="[step] first layer, directions combined")
    relative: list[float] = Field(description="[step] series / series[ref_step]")
    cell_norms: list[list[list[float]]] | None = Field(description="LSTM: ‖∂L/∂c_t‖")
    cell_series: list[float] | None
    cell_relative: list[float] | None


class VerdictRow(Out):
    model: str
    label: str
    cell: str
    step: int
    h: float = Field(description="‖∂L/∂h‖ at the word relative to the target step")
    c: float | None = Field(description="the same for an LSTM's cell state")


class Verdict(Out):
    at: int | None = Field(description="word index compared at (None: not comparable)")
    back: int | None = Field(description="words between it and the target")
    word: str | None
    models: list[VerdictRow]
    text: str = Field(description="the verdict in words, from exactly these numbers")


class GradientsCompared(Out):
    panels: list[Gradients]
    verdict: Verdict


class GenStep(Out):
    token: str
    p: float
    top: Top


class Generated(Out):
    model: str
    prompt_tokens: list[str]
    prompt_unk: list[bool] = Unk
    steps: list[GenStep]
    text: str
    temperature: float


class WordChoice(Out):
    word: str
    p: float | None = Field(description="None when the model does not know the word")
    rank: int | None = Field(description="1 = the model's top guess")
    known: bool


class Prediction(Out):
    model: str
    tokens: list[str]
    unk: list[bool] = Unk
    top: Top
    temperature: float = 1.0
    choice: WordChoice | None = None


class Excitation(Out):
    token: str
    unk: bool = Field(description="the model reads this held-out token as <unk>")
    before: str
    value: float


class Neuron(Out):
    """What drives one unit over held-out text (``note`` alone when there is none)."""

    unit: int
    top: list[Excitation]
    bottom: list[Excitation]
    sample: list[tuple[str, float, int]] = Field(description="[token, value, sentence]")
    model: str | None = None
    layer: int | None = None
    direction: int | None = None
    mean: float | None = None
    n_tokens: int | None = None
    note: str | None = None


class Curve(Out):
    train: list[tuple[int, float]]
    val: list[tuple[int, float]]


class Metric(Out):
    key: str = Field(description='as recorded, e.g. "val_ppl"')
    label: str = Field(description='in words, e.g. "held-out perplexity"')
    value: float
    unit: str = Field(description="ppl, bits, nats, share (0..1), count or number")


class Card(Arch):
    model: str
    label: str
    vocab_size: int
    level: str
    group: str = Field(description="words, chars, recall...: which models compare")
    data: str = Field(description="what the model learned from")
    val_ppl: float | None
    metrics: dict[str, Any]
    metric_rows: list[Metric] = Field(description="the metrics named in words, perplexity first")
    training_seconds: float | None
    size_bytes: int | None = Field(description="size of the weights on disk")
    command: str | None = Field(description='how it was made, e.g. "rnnlab demo --build"')
    config: dict[str, Any]
    curve: Curve
    run_dir: str | None = Field(None, description="the run folder's name (not its path)")
    limits: str | None = Field(None, description="what the model is known not to do well")


class CompareRow(Out):
    name: str
    label: str
    cell: str
    causal: bool
    val_ppl: float | None = Field(description="held-out perplexity, at the table's precision")
    training_seconds: float | None
    params: int
    vocab_size: int
    rank: int | None = Field(None, description="1 = lowest perplexity (next-word models only)")


class Compare(Out):
    group: str
    models: list[CompareRow] = Field(description="next-word models, lowest perplexity first")
    fillin: list[CompareRow] = Field(description="fill-in models: another task, not ranked")
    summary: str = Field(description="what the numbers show, computed from them")
    fillin_note: str | None


class Page(Out):
    path: str
    label: str


class Pages(Out):
    pages: list[Page]
