"""Which models ``rnnlab demo`` serves: the shipped ones, or the five word models trained live.

>>> [m.name for m in demo_models()][:3]            # doctest: +SKIP
['rnn', 'gru', 'lstm']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnnlab.data.builtin import DESCRIPTION, corpus_text
from rnnlab.errors import InputError
from rnnlab.tasks.demo import live
from rnnlab.tasks.demo.recipes import BY_NAME, LIMITS
from rnnlab.tasks.demo.shipped import available, heldout_text, manifest, model_dir

EXPLORABLE = ("words", "chars", "recall")  # groups the explorer shows (the others have pages)


@dataclass
class DemoModel:
    """One model of the demo: its run directory, where it shows, its held-out text and what
    its model card says (``meta``: the manifest entry of a shipped model)."""

    name: str
    label: str
    group: str
    run_dir: Path
    heldout: Callable[[], str]
    meta: dict[str, Any] = field(default_factory=dict)


def _shipped(name: str) -> DemoModel:
    r, entry = BY_NAME[name], manifest()[name]
    meta = {**entry, "group": r.group, "shipped": True, "limits": LIMITS.get(r.data)}
    return DemoModel(name, r.label, r.group, model_dir(name), lambda r=r: heldout_text(r), meta)


def _live(root: Path) -> list[DemoModel]:
    meta = {
        "data": DESCRIPTION + " (trained live by `rnnlab demo --retrain`)",
        "group": "words",
        "limits": LIMITS["english"],
    }
    return [
        DemoModel(n, label, "words", root / n, lambda: corpus_text("val"), dict(meta))
        for n, label, *_ in live.MODELS
    ]


def demo_models(retrain: bool = False, no_train: bool = False) -> list[DemoModel]:
    """The explorer's models: shipped ones; with ``retrain`` the word models are trained live
    first (and replace the shipped word models); without shipped word models, the live ones
    (trained now unless ``no_train``)."""
    if retrain and no_train:
        raise InputError("--retrain and --no-train contradict each other: pick one")
    have = [n for n in available() if BY_NAME[n].group in EXPLORABLE]
    shipped_words = [n for n in have if BY_NAME[n].group == "words"]
    others = [_shipped(n) for n in have if BY_NAME[n].group != "words"]
    if retrain:
        return _live(live.train_live()) + others
    if shipped_words:
        return [_shipped(n) for n in shipped_words] + others
    root = live.demo_root()
    if live.is_trained(root):
        return _live(root) + others
    if no_train:
        raise InputError(
            "this installation has no shipped demo models and none are cached: run "
            "`rnnlab demo` without --no-train (trains five word models in about 2 minutes), "
            "or rebuild the shipped ones with `rnnlab demo --build`"
        )
    return _live(live.train_live()) + others


def shipped_page_model(name: str) -> Path | None:
    """The shipped run directory of a page's model ("translate", "speech"), if present."""
    return model_dir(name) if name in available() else None
