"""Every knob of the playground, declared once with its allowed range (pydantic: the API's
request body, its 422 messages and /openapi.json come from here), the presets and the
server-side limits. No torch here.

>>> RunKnobs.model_validate({"lanes": [{"cell": "rnn"}, {"cell": "lstm"}]}).data.length
50
>>> DataKnobs(length=999)  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
ValidationError: length = 999 is out of range: allowed 2 to 200
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

from annotated_types import Ge, Le
from pydantic import BaseModel, ConfigDict, Field, model_validator

Task = Literal["adding", "copy", "recall", "parity", "text"]
Cell = Literal["rnn", "gru", "lstm", "mingru", "minlstm"]
TASKS, PLAY_CELLS = get_args(Task), get_args(Cell)
CELL_NAMES = {"rnn": "vanilla RNN", "gru": "GRU", "lstm": "LSTM", "mingru": "minGRU",
              "minlstm": "minLSTM"}  # fmt: skip
SOLVED = 0.95  # the verdict's "solved": accuracy (adding: variance explained) at 95%
CLIP_NORM = 1.0  # gradient clipping "on": total norm 1
# batch × sequence length × hidden above this cannot stream >= 2 updates/s on one core
MAX_WORK = 64 * 120 * 128


class _Ranged(BaseModel):
    """Checks every numeric field against its declared range first, so a bad knob's 422
    names the allowed range (pydantic's own message names only the bound it crossed)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _in_range(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for name, f in cls.model_fields.items():
            v = data.get(name)
            if isinstance(v, bool) or not isinstance(v, int | float):
                continue
            lo = next((m.ge for m in f.metadata if isinstance(m, Ge)), None)
            hi = next((m.le for m in f.metadata if isinstance(m, Le)), None)
            if (lo is not None and v < lo) or (hi is not None and v > hi):
                raise ValueError(f"{name} = {v:g} is out of range: allowed {lo:g} to {hi:g}")
        return data


class DataKnobs(_Ranged):
    """What both lanes train on: the same task, batches and seed."""

    task: Task = Field(
        "adding",
        description="adding | copy | recall (copy with a randomly timed cue) | parity | "
        "text (next character of Shakespeare)",
    )
    length: int = Field(
        50,
        ge=2,
        le=200,
        description="the distance: adding / parity sequence length, copy / recall delay, "
        "text: characters per training window",
    )
    symbols: int = Field(3, ge=1, le=10, description="copy / recall: symbols to remember")
    batch: int = Field(64, ge=1, le=128, description="sequences per training step")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="seed of the data and of both models")

    def seq_len(self) -> int:
        """Steps in one sequence (copy / recall: symbols, delay, then the recall steps)."""
        return self.length + 2 * self.symbols if self.task in ("copy", "recall") else self.length


class LaneKnobs(_Ranged):
    """One side of the comparison: the model and its optimizer."""

    cell: Cell = Field("lstm", description=" | ".join(PLAY_CELLS))
    hidden: int = Field(64, ge=1, le=128, description="hidden units per layer")
    layers: int = Field(1, ge=1, le=2, description="stacked recurrent layers")
    lr: float = Field(0.01, ge=1e-4, le=0.1, description="learning rate (AdamW, constant)")
    clip: bool = Field(True, description=f"clip the gradient's total norm at {CLIP_NORM:g}")


class RunKnobs(_Ranged):
    """A run: the shared data and one or two lanes trained side by side on it."""

    data: DataKnobs = Field(default_factory=DataKnobs)
    lanes: list[LaneKnobs] = Field(..., min_length=1, max_length=2)

    @model_validator(mode="after")
    def _small_enough(self) -> RunKnobs:
        for lane in self.lanes:
            work = self.data.batch * self.data.seq_len() * lane.hidden
            if work > MAX_WORK:
                raise ValueError(
                    f"batch × sequence length × hidden = {work:,} is too big to train live "
                    f"(at most {MAX_WORK:,}): make the batch, the length or hidden smaller"
                )
        return self


@dataclass(frozen=True)
class Limits:
    """What keeps a shared server safe: runs at once (each on one CPU thread), training
    seconds per run, seconds a run may exist at all (paused ones too), seconds without a
    client before a run is cancelled, seconds between streamed snapshots."""

    max_runs: int = 2
    max_seconds: float = 300.0
    max_life: float = 900.0
    idle_seconds: float = 20.0
    interval: float = 0.25


def _preset(pid: str, title: str, note: str, data: dict, *lanes: dict) -> dict[str, Any]:
    return {"id": pid, "title": title, "note": note, "data": data, "lanes": list(lanes)}


def _rnn_vs_lstm(length: int, title: str, note: str) -> dict[str, Any]:
    # small and quick: on a loaded 2-core machine the LSTM solves T = 50 in 14-19 s (seeds
    # 0-2) while the vanilla RNN stays at chance (benchmarks/playground.py)
    lanes = [{"cell": c, "hidden": 32, "lr": 0.02} for c in ("rnn", "lstm")]
    data = {"task": "adding", "length": length, "batch": 32, "seed": 0}
    return _preset(f"adding-{length}", title, note, data, *lanes)


PRESETS: list[dict[str, Any]] = [
    _rnn_vs_lstm(
        50,
        "adding, T = 50: vanilla RNN vs LSTM",
        "Add the two marked numbers of 50: the first is up to 50 steps back. The LSTM "
        "explains 95% of the variance within a minute; the vanilla RNN stays at chance "
        "(benchmarks/playground.py measures it).",
    ),
    _rnn_vs_lstm(
        10,
        "adding, T = 10: both learn",
        "A short distance: the vanilla RNN learns it too, only later (about 1,700 steps "
        "against the LSTM's 200). Compare with T = 50.",
    ),
    _preset(
        "text",
        "next character: vanilla RNN vs GRU",
        "Predict Shakespeare's next character (both pass 40% within a minute); watch the "
        "probe line's guesses improve.",
        {"task": "text", "length": 50, "batch": 32, "seed": 0},
        {"cell": "rnn", "hidden": 64, "lr": 0.01},
        {"cell": "gru", "hidden": 64, "lr": 0.01},
    ),
]
