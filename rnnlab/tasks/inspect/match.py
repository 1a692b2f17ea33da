"""Select and match (LSTMVis, Strobelt et al. 2018, live): the units on throughout a selected
range, and the other ranges of a corpus where the same units are on.

>>> index = MatchIndex.build(model, heldout_text)              # once per model (seconds)
... # doctest: +SKIP
>>> units = units_on(values, 3, 7, threshold=0.3)            # doctest: +SKIP
>>> index.search(("h", 0, 0), units, 0.3, length=5)[:3]        # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from torch import Tensor

from rnnlab.errors import InputError
from rnnlab.tasks.inspect.detectors import detectors_for
from rnnlab.tasks.inspect.text import States, read_tokens, stream_states

CONTEXT = 6  # tokens shown either side of a match


def units_on(values: Tensor | np.ndarray, start: int, end: int, threshold: float) -> list[int]:
    """Units whose value is above ``threshold`` at every step ``start..end`` (inclusive) of
    ``values`` (T, H).

    >>> units_on(np.array([[0.9, 0.1], [0.8, 0.7]]), 0, 1, 0.5)
    [0]
    """
    v = np.asarray(values)
    if not 0 <= start <= end < v.shape[0]:
        raise InputError(
            f"the range must lie in 0..{v.shape[0] - 1} with start <= end, got {start}..{end}"
        )
    return [int(u) for u in np.flatnonzero((v[start : end + 1] > threshold).all(0))]


@dataclass
class Match:
    """A range ``start..end`` (inclusive) of the corpus where every selected unit is on;
    ``tokens`` are it with the context either side (``offset``: where it starts in
    them), ``track`` a detector's values over those tokens."""

    start: int
    end: int
    score: float
    tokens: list[str]
    offset: int
    track: list[float]


@dataclass
class MatchIndex:
    """The states of a model over a corpus, read once (``build``) and searched many times."""

    tokens: list[str]
    states: States
    detectors: dict[str, list[float]]

    @classmethod
    def build(cls, model: Any, text: str, max_tokens: int = 20000) -> MatchIndex:
        """Read (the first ``max_tokens`` tokens of) ``text`` through ``model``."""
        tokens, ids = read_tokens(model, text)
        tokens, ids = tokens[:max_tokens], ids[:max_tokens]
        states = stream_states(model, ids)
        # float32 on/off tests against a threshold: keep the states as numpy for speed
        return cls(tokens, states, detectors_for(model.tokenizer.level, tokens))

    def search(
        self,
        key: tuple[str, int, int],
        units: Sequence[int],
        threshold: float,
        length: int,
        k: int = 10,
        detector: str | None = None,
        context: int = CONTEXT,
    ) -> list[Match]:
        """The ``k`` ranges where every unit of ``units`` (of state ``key``: kind, layer,
        direction) is above ``threshold``; maximal runs, ranked by how close their length is
        to ``length`` (the selection's), then by the units' mean value over them; each with
        ``context`` tokens either side."""
        if key not in self.states.values:
            raise InputError(f"no state {key} in this model; known: {list(self.states.values)}")
        if not units:
            return []
        v = self.states.values[key][:, list(units)].numpy()
        on = (v > threshold).all(1)
        edges = np.diff(np.concatenate([[0], on.astype(np.int8), [0]]))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
        if len(starts) == 0:
            return []
        lens = ends - starts + 1
        csum = np.concatenate([[0.0], np.cumsum(v.mean(1))])
        mean = (csum[ends + 1] - csum[starts]) / lens
        order = np.lexsort((-mean, np.abs(lens - length)))[:k]
        track = self.detectors.get(detector or "", None)
        out = []
        for j in order:
            a, b = int(starts[j]), int(ends[j])
            lo, hi = max(0, a - context), min(len(self.tokens), b + context + 1)
            out.append(Match(a, b, round(float(mean[j]), 4), self.tokens[lo:hi], a - lo,
                             [] if track is None else track[lo:hi]))  # fmt: skip
        return out


def match_dicts(matches: list[Match]) -> list[dict[str, Any]]:
    """JSON-ready matches."""
    return [asdict(m) for m in matches]
