"""What a lane shows on the fixed probe batch, from one float64 trace of the engine
(``rnnlab.tasks.memory.curves.traced``): ‖∂L/∂h_t‖ over t, the first sequence's hidden state,
how saturated each gate is, and what the model answers.

>>> read_probe(model, problem, *problem.probe())["grad_norm"][:2]   # doctest: +SKIP
[1.2e-09, 3.4e-09]
"""

from __future__ import annotations

import math
from typing import Any

from torch import Tensor

from rnnlab.data import synthetic
from rnnlab.tasks.memory.curves import norm_curve, traced
from rnnlab.tasks.memory.model import MemoryModel
from rnnlab.tasks.playground.problems import Problem, text_ids
from rnnlab.train.threads import cpu_threads

SATURATED = 0.95  # a sigmoid gate above 0.95 or below 0.05, a tanh value beyond ±0.95
TANH_GATES = ("n", "g")  # GRU's candidate, LSTM's cell input; the other gates are sigmoids
SYMBOLS = "ABCDEFGH"  # copy / recall symbols as letters on the page


def finite(v: Any) -> Any:
    """``v`` with every NaN or infinity replaced by None (a diverging model's numbers; JSON
    has no NaN)."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: finite(x) for k, x in v.items()}
    if isinstance(v, list):
        return [finite(x) for x in v]
    return v


def _matrix(t: Tensor) -> list:
    """A tensor as nested lists, NaN / infinity as None (the fast path when all are finite)."""
    return t.round(decimals=4).tolist() if bool(t.isfinite().all()) else finite(t.tolist())


def _saturation(tr) -> dict[str, float]:
    out = {}
    for name, v in tr.gates[0][0].items():
        if name == "cell":  # the LSTM's cell state is unbounded
            continue
        sat = v.abs() > SATURATED if name in TANH_GATES else (v - 0.5).abs() > SATURATED - 0.5
        out[name] = float(sat.double().mean())
    out["h"] = float((tr.hidden[0][0].abs() > SATURATED).double().mean())
    return out


def _answer(p: Problem, x: Tensor, y: Tensor, pred: Tensor) -> dict[str, Any]:
    """The first probe sequence: the question, the right answer, the model's, and whether
    they agree (text: the fraction of characters right)."""
    task = p.knobs.task
    if task == "adding":
        a, b = x[x[:, 1] == 1, 0].tolist()
        want, got = float(y), float(pred.squeeze())
        q = f"{a:.2f} + {b:.2f}"
        return {"question": q, "target": f"{want:.2f}", "answer": f"{got:.2f}",
                "correct": float(abs(want - got) <= 0.1)}  # fmt: skip
    if task == "parity":
        bits = "".join(str(int(v)) for v in x[:, 0].tolist())
        got = int(pred.argmax(-1))
        return {"question": f"{bits}: ones mod 2", "target": str(int(y)), "answer": str(got),
                "correct": float(got == int(y))}  # fmt: skip
    if task == "text":
        chars = text_ids()[1]
        word = lambda ids: "".join(chars[int(i)] for i in ids)  # noqa: E731
        got = pred.argmax(-1)
        return {"question": word(x.argmax(-1)), "target": word(y), "answer": word(got),
                "correct": float((got == y).double().mean())}  # fmt: skip
    keep = y != synthetic.IGNORE  # copy / recall: the recall steps
    word = lambda ids: "".join(SYMBOLS[int(i)] for i in ids)  # noqa: E731
    got, want = pred.argmax(-1)[keep], y[keep]
    shown = word(x.argmax(-1)[: p.knobs.symbols])
    return {"question": f"remember {shown}, recall it after {p.knobs.length} steps",
            "target": word(want), "answer": word(got),
            "correct": float(bool((got == want).all()))}  # fmt: skip


def read_probe(model: MemoryModel, p: Problem, x: Tensor, y: Tensor) -> dict[str, Any]:
    """The probe readings of ``model`` (JSON-ready): ``grad_norm[t]`` (index 0 = first step;
    the same numbers as ``grad_norm_curve(model, x, y, threads=1)``), ``hidden`` (T, H) of
    sequence 0, ``saturation`` per gate (fraction of the batch's values), ``answer``."""
    with cpu_threads(1, flush_denormal=True):
        m, tr = traced(model, x, y)
        pred = m.readout(tr.output).detach()
    return {
        "grad_norm": finite(norm_curve(tr)),
        "hidden": _matrix(tr.hidden[0][0][0]),
        "saturation": finite(_saturation(tr)),
        "answer": _answer(p, x[0], y[0], pred[0]),
    }
