"""Which models the server knows, loaded lazily and kept in memory.

>>> reg = ModelRegistry()
>>> reg.add_run("gru", "runs/gru", label="GRU")        # doctest: +SKIP
>>> reg.get("gru").model                                # loads on first use  # doctest: +SKIP
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnnlab.errors import RnnlabError
from rnnlab.serve.contract import ExplorableModel
from rnnlab.tasks.lm.data import heldout_text
from rnnlab.tasks.runs import load_explorable

CELL_LABELS = {
    "rnn": "Vanilla RNN",
    "rnn_tanh": "Vanilla RNN",
    "rnn_relu": "Vanilla RNN (ReLU)",
    "gru": "GRU",
    "lstm": "LSTM",
    "mingru": "minGRU",
    "minlstm": "minLSTM",
}


def default_label(config: dict[str, Any]) -> str:
    """A human name from a model config, e.g. "GRU", "Bidirectional LSTM", "GRU (2 layers)"."""
    cfg = config.get("model", config)
    label = CELL_LABELS.get(str(cfg.get("cell", "?")), str(cfg.get("cell", "?")).upper())
    if cfg.get("bidirectional"):
        label = "Bidirectional " + label
    layers = int(cfg.get("layers", cfg.get("num_layers", 1)) or 1)
    if layers > 1:
        label += f" ({layers} layers)"
    return label


def model_info(model: ExplorableModel) -> dict[str, Any]:
    """Architecture facts read off the recurrent layer itself (not trusted from a config)."""
    rnn = model.rnn
    return {
        "cell": rnn.cell,
        "layers": int(rnn.num_layers),
        "directions": 2 if rnn.bidirectional else 1,
        "hidden_size": int(rnn.hidden_size),
        "params": int(sum(p.numel() for p in model.parameters())),
        "causal": bool(model.causal),
    }


@dataclass
class LoadedModel:
    """One served model. ``causal`` is False for a fill-in-the-blank (bidirectional) model,
    which cannot predict the next word; everything else is a next-word language model."""

    name: str
    label: str
    model: ExplorableModel
    config: dict[str, Any]
    run_dir: Path | None = None
    heldout: str | Callable[[], str] = ""
    info: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)  # e.g. {"data": "what it learned from"}
    cache: dict[str, Any] = field(default_factory=dict)  # per-model analysis caches (PCA, ...)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def tokenizer(self):
        return self.model.tokenizer

    @property
    def causal(self) -> bool:
        return bool(self.info.get("causal", True))

    def listing(self) -> dict[str, Any]:
        """How a model is listed to the pages (the explorer's and the game's model menus);
        ``group`` ("words", "chars", "recall", ...) comes from the registry's ``meta``."""
        tok = self.tokenizer
        return {
            "name": self.name,
            "label": self.label,
            "level": tok.level,
            "vocab_size": len(tok),
            "group": str(self.meta.get("group", "words")),
        }

    def heldout_text(self) -> str:
        """Held-out text of the corpus the model was trained on ("" if unknown)."""
        if callable(self.heldout):
            self.heldout = self.heldout()
        return self.heldout


class ModelUnavailable(RnnlabError):
    """A registered model whose files cannot be loaded (corrupt, missing, of another kind):
    the server lists it with the reason and serves the others."""

    def __init__(self, name: str, reason: str):
        super().__init__(f"model {name!r} is unavailable: {reason}")
        self.name, self.reason = name, reason


def _reason(e: Exception, run_dir: Path | None) -> str:
    """What went wrong, without the server's paths (a page shows it)."""
    msg = str(e) or type(e).__name__
    if run_dir is not None:
        for p in sorted({str(run_dir.resolve()), str(run_dir)}, key=len, reverse=True):
            msg = msg.replace(p, "the model's folder")
    msg = re.sub(r"(?:/[\w.\-]+){2,}", lambda m: Path(m.group()).name, msg)  # other paths
    return msg.split("\n")[0][:300]


class ModelRegistry:
    """Name → model, loaded on first ``get`` (thread-safe). Unknown names raise ``KeyError``;
    a model that fails to load raises ``ModelUnavailable`` and leaves ``names()``."""

    def __init__(self) -> None:
        self._specs: dict[str, dict[str, Any]] = {}
        self._loaded: dict[str, LoadedModel] = {}
        self._lock = threading.Lock()
        self.unavailable: dict[str, str] = {}  # name -> why it could not be loaded
        self.errors: dict[str, Exception] = {}  # name -> the error itself (for the CLI)

    def add_run(
        self,
        name: str,
        run_dir: str | Path,
        label: str | None = None,
        heldout: str | Callable[[], str] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        """Register a run directory under ``name`` (loaded lazily)."""
        self._specs[name] = {
            "run_dir": Path(run_dir),
            "label": label,
            "heldout": heldout,
            "meta": meta or {},
        }

    def add_model(
        self,
        name: str,
        model: ExplorableModel,
        label: str | None = None,
        heldout: str | Callable[[], str] = "",
        config: dict[str, Any] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        """Register an already-built model (tests, notebooks)."""
        if not isinstance(model, ExplorableModel):
            raise TypeError(f"{type(model).__name__} is not an explorable model (serve.contract)")
        model.eval()
        config = dict(config if config is not None else model.config)
        self._loaded[name] = LoadedModel(
            name,
            label or default_label(config),
            model,
            config,
            None,
            heldout,
            model_info(model),
            meta or {},
        )
        self._specs[name] = {
            "run_dir": None,
            "label": label,
            "heldout": heldout,
            "meta": meta or {},
        }

    def names(self, causal_only: bool = False) -> list[str]:
        """Registered names in registration order, less the unavailable ones
        (``causal_only``: next-word models only)."""
        names = [n for n in self._specs if n not in self.unavailable]
        if not causal_only:
            return names
        out = []
        for n in names:
            try:
                if self.get(n).causal:
                    out.append(n)
            except ModelUnavailable:
                pass
        return out

    def __contains__(self, name: str) -> bool:
        return name in self._specs

    def __len__(self) -> int:
        return len(self._specs)

    def get(self, name: str) -> LoadedModel:
        """The loaded model ``name``; ``KeyError`` for an unknown name."""
        if name not in self._specs:
            raise KeyError(name)
        if name in self.unavailable:
            raise ModelUnavailable(name, self.unavailable[name])
        with self._lock:
            if name not in self._loaded:
                spec = self._specs[name]
                try:
                    model = load_explorable(spec["run_dir"])
                except Exception as e:  # a corrupt file must not take the server down
                    self.unavailable[name] = _reason(e, spec["run_dir"])
                    self.errors[name] = e
                    raise ModelUnavailable(name, self.unavailable[name]) from None
                model.eval()
                config = dict(model.config)
                heldout = spec["heldout"]
                if heldout is None:
                    heldout = lambda c=config: heldout_text(c)  # noqa: E731
                self._loaded[name] = LoadedModel(
                    name,
                    spec["label"] or default_label(config),
                    model,
                    config,
                    spec["run_dir"],
                    heldout,
                    model_info(model),
                    spec["meta"],
                )
            return self._loaded[name]

    def load_all(self) -> dict[str, str]:
        """Load every model now (so the first request is fast and errors show at start);
        returns the ones that could not be loaded, with the reason."""
        for n in list(self._specs):
            try:
                self.get(n)
            except ModelUnavailable:
                pass
        return dict(self.unavailable)
