"""Request and response bodies of the game endpoints (pydantic: requests are validated into a
422 message; responses are declared so ``/openapi.json`` documents them)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from rnnlab.serve.game.beat import ROUND_SENTENCES
from rnnlab.serve.game.memory import LEVELS

# ---- requests ------------------------------------------------------------------------------


class NewGame(BaseModel):
    model: str = Field(..., max_length=100)
    mode: Literal["easy", "typed"] = "easy"
    sentences: int = Field(
        1, ge=1, le=ROUND_SENTENCES, description=f"1, or {ROUND_SENTENCES} for a full round"
    )
    seed: int | None = Field(None, ge=0, le=2**31 - 1)


class Guess(BaseModel):
    session: str = Field(..., min_length=1, max_length=64)
    guess: str = Field(..., min_length=1, max_length=50)
    confidence: float = Field(
        0.5, ge=0.01, le=0.99, description="the probability you put on your guess"
    )


class MemoryAnswer(BaseModel):
    kind: str = Field(..., max_length=30)
    level: int = Field(..., ge=0, lt=LEVELS)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    choice: str = Field(..., max_length=20)


class HiddenNew(BaseModel):
    slots: int = Field(4, ge=1, le=8)
    length: int = Field(10, ge=4, le=20)
    seed: int | None = Field(None, ge=0, le=2**31 - 1)


class HiddenStep(BaseModel):
    session: str = Field(..., min_length=1, max_length=64)


class HiddenAnswer(HiddenStep):
    answer: int = Field(..., ge=0, le=9)


# ---- responses -----------------------------------------------------------------------------


class Out(BaseModel):
    """A reply body; a key the rules add later passes through rather than being dropped."""

    model_config = ConfigDict(extra="allow")


class GameModel(Out):
    name: str
    label: str
    level: str
    vocab_size: int
    sentences: int = Field(description="playable held-out sentences")


class GameModels(Out):
    models: list[GameModel]
    round: int
    choices: int


class SideScore(Out):
    correct: int
    bits: float = Field(description="total bits by the game's one rule (see beat.player_bits)")
    bits_per_token: float | None
    bits_per_char: float | None = Field(None, description="a word counts its space")
    own_bits_per_token: float | None = Field(
        None, description="RNN only: its plain surprisal −log2 p(truth), for reference"
    )
    own_bits_per_char: float | None = None


class Scores(Out):
    n: int
    chars: int = 0
    you: SideScore
    rnn: SideScore


class Summary(Scores):
    unit: str
    text: str
    sentences: list[Scores]
    texts: list[str] = Field(default_factory=list, description="the sentences played")
    shannon_bits_per_char: list[float] = Field(
        default_factory=list, description="Shannon's 1951 bounds for English"
    )
    model: str
    label: str
    mode: str


class GameState(Out):
    """Before a guess: the tokens so far, never the one to guess (``summary`` once finished)."""

    session: str
    model: str
    label: str
    level: str
    unit: str
    mode: str
    n_sentences: int
    sentence: int
    finished: bool
    scores: Scores
    sentence_scores: Scores | None
    summary: Summary | None = None
    step: int | None = None
    shown: list[str] | None = None
    choices: list[str] | None = None
    min_confidence: float | None = None


class YouResult(Out):
    correct: bool
    bits: float
    unk: bool = Field(description="the guess is not in the model's vocabulary")


class RnnResult(Out):
    guess: str
    correct: bool
    bits: float = Field(description="by the rule a person is scored by")
    confidence: float = Field(0.0, description="its real probability for its guess, clipped")
    p_truth: float = Field(description="its real probability for the true token")
    own_bits: float = Field(0.0, description="−log2 p_truth, for reference")
    top: list[tuple[str, float]]


class GuessResult(Out):
    step: int
    truth: str
    guess: str
    confidence: float
    you: YouResult
    rnn: RnnResult
    choices: list[str] | None


class GuessReply(Out):
    result: GuessResult
    sentence_done: bool
    sentence_text: str | None = None
    sentence_scores: Scores | None = None
    state: GameState


class MemoryLevel(Out):
    level: int
    prompt: str
    options: list[str]
    distance: int


class ModelName(Out):
    name: str
    label: str


class MemoryLevels(Out):
    kind: str
    title: str
    explain: str
    options: list[str]
    seed: int
    levels: list[MemoryLevel]
    models: list[ModelName]


class MemoryPick(ModelName):
    level: str = Field("word", description="word or char: what the model reads")
    unknown: list[str] = Field(
        default_factory=list, description="words of the prompt this model reads as <unk>"
    )
    pick: str | None = None
    correct: bool | None = Field(None, description="right, and only because of the clue")
    pick_correct: bool | None = Field(None, description="right, whatever the reason")
    probs: dict[str, float] | None = None
    other_clue: float | None = None
    error: str | None = None


class MemoryResult(Out):
    kind: str
    level: int
    prompt: str
    other_prompt: str
    distance: int
    answer: str
    correct: bool
    choice: str
    models: list[MemoryPick]


class MemoryCurveModel(ModelName):
    accuracy: list[float] | None = None
    accuracy_se: list[float] | None = Field(None, description="standard error per level")
    p_right: list[float] | None = None
    paired: list[float] | None = None
    paired_se: list[float] | None = None
    effect: list[float] | None = None
    effect_se: list[float] | None = None
    error: str | None = None


class MemoryCurve(Out):
    kind: str
    items: int
    levels: list[int]
    distance: list[float]
    models: list[MemoryCurveModel]


class HiddenStarted(Out):
    session: str
    slots: int
    length: int
    keys: list[str]


class Fact(Out):
    key: str
    value: int


class HiddenNext(Out):
    """The next fact, or (after the last) the question."""

    step: int
    length: int
    fact: Fact | None = None
    question: str | None = None
    key: str | None = None


class HiddenResult(Out):
    correct: bool
    answer: int
    key: str
    facts: list[Fact]
    distance: int
    keys_after: int
    slots: int
    newest: int | None = Field(
        None, description="what a memory that always stores the newest fact answers (None: lost)"
    )
