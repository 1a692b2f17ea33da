"""The verdict line, computed from the lanes' validation curves: "the LSTM reached 95%
accuracy after 1,400 steps; the vanilla RNN is at chance (12%)".

>>> from rnnlab.tasks.playground.problems import problem
>>> from rnnlab.tasks.playground.config import DataKnobs
>>> p = problem(DataKnobs(task="parity"))
>>> verdict(["LSTM", "vanilla RNN"], [[[100, 0.1, 0.97]], [[100, 0.7, 0.52]]], p)
'The LSTM reached 95% accuracy after 100 steps; the vanilla RNN is at chance (52%).'
"""

from __future__ import annotations

from typing import Any

from rnnlab.tasks.playground.config import CELL_NAMES, SOLVED
from rnnlab.tasks.playground.problems import Problem

NEAR_CHANCE = 0.1  # "at chance": within 10% of the way from chance to a perfect score
RECENT = 4  # "now" is the mean of the last 4 validation scores (about a second of play)


def recent(evals: list[list[float]]) -> float | None:
    """The lane's score now: the mean of its last ``RECENT`` validation scores (None when the
    last one is not a number: it diverged)."""
    last = [v for _, _, v in evals[-RECENT:]]
    if not last or last[-1] is None:
        return None
    ok = [v for v in last if v is not None]
    return sum(ok) / len(ok)


def labels(lanes: list[dict[str, Any]]) -> list[str]:
    """What the page and the verdict call each lane: its cell, plus the knobs that differ
    when two lanes share a cell ("LSTM (lr 0.01)" and "LSTM (lr 0.001)")."""
    names = [CELL_NAMES[k["cell"]] for k in lanes]
    if len(set(names)) == len(names):
        return names
    differ = [f for f in lanes[0] if f != "cell" and len({str(k[f]) for k in lanes}) > 1]
    if not differ:
        return [f"{n} ({side})" for n, side in zip(names, ("left", "right"), strict=False)]
    return [
        f"{n} ({', '.join(f'{f} {k[f]}' for f in differ)})"
        for n, k in zip(names, lanes, strict=True)
    ]


def status(label: str, evals: list[list[float]], p: Problem) -> str:
    """One lane's clause: solved (and when), at chance, or how far it got."""
    if not evals:
        return f"the {label} has not trained yet"
    what = p.score_name
    solved = next((s for s, _, v in evals if v is not None and v >= SOLVED), None)
    if solved is not None:
        return f"the {label} reached {SOLVED:.0%} {what} after {int(solved):,} steps"
    now = recent(evals)
    if now is None:
        return f"the {label} diverged (its loss is not a number: try a lower lr or clipping)"
    if now <= p.chance + NEAR_CHANCE * (1 - p.chance):
        return f"the {label} is at chance ({max(now, 0):.0%})"
    return f"the {label} is at {now:.0%} {what}"


def verdict(names: list[str], curves: list[list[list[float]]], p: Problem) -> str:
    """The verdict on every lane's ``[step, loss, score]`` validation curve."""
    text = "; ".join(status(n, c, p) for n, c in zip(names, curves, strict=True))
    return text[:1].upper() + text[1:] + "."
