"""Which models the server knows, loaded lazily and kept in memory.

>>> reg = ModelRegistry()
>>> reg.add_run("gru", "runs/gru", label="GRU")        # doctest: +SKIP
>>> reg.get("gru").model                                # loads on first use  # doctest: +SKIP
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

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


def model_info(model: nn.Module) -> dict[str, Any]:
    """Architecture facts read off the recurrent layer itself (not trusted from a config)."""
    rnn = model.rnn
    return {
        "cell": getattr(rnn, "cell", type(rnn).__name__.lower()),
        "layers": int(rnn.num_layers),
        "directions": 2 if rnn.bidirectional else 1,
        "hidden_size": int(rnn.hidden_size),
        "params": int(sum(p.numel() for p in model.parameters())),
        "causal": not bool(getattr(model, "fill_in", False)),
    }


@dataclass
class LoadedModel:
    """One served model. ``causal`` is False for a fill-in-the-blank (bidirectional) model,
    which cannot predict the next word; everything else is a next-word language model."""

    name: str
    label: str
    model: nn.Module
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

    def heldout_text(self) -> str:
        """Held-out text of the corpus the model was trained on ("" if unknown)."""
        if callable(self.heldout):
            self.heldout = self.heldout()
        return self.heldout


def load_any(run_dir: str | Path) -> nn.Module:
    """Load a run written by ``rnnlab lm train`` or a demo fill-in model (eval mode)."""
    from rnnlab.train.checkpoint import read_config

    cfg = read_config(run_dir)
    if cfg.get("task") == "lm-fill":
        from rnnlab.serve.fillin import load_fill

        return load_fill(run_dir)
    from rnnlab.tasks.lm import load_lm

    return load_lm(run_dir)


def heldout_from_config(config: dict[str, Any], limit: int = 200_000) -> str:
    """Best effort: the validation text of a run trained by ``rnnlab lm train``: its ``--val``
    file, else the last 10% of its data file (the part train_lm held out), else ""."""

    def read(v: Any) -> str | None:
        if isinstance(v, str) and v and not v.startswith("<") and Path(v).is_file():
            try:
                return Path(v).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                return None
        return None

    val = read(config.get("val"))
    if val is not None:
        return val[:limit]
    data = read(config.get("data"))
    if data is not None:
        tail = data[int(len(data) * 0.9) :]
        return tail[tail.find("\n") + 1 :][:limit]  # start at a line start
    return ""


class ModelRegistry:
    """Name → model, loaded on first ``get`` (thread-safe). Unknown names raise ``KeyError``."""

    def __init__(self) -> None:
        self._specs: dict[str, dict[str, Any]] = {}
        self._loaded: dict[str, LoadedModel] = {}
        self._lock = threading.Lock()

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
        model: nn.Module,
        label: str | None = None,
        heldout: str | Callable[[], str] = "",
        config: dict[str, Any] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        """Register an already-built model (tests, notebooks)."""
        model.eval()
        config = dict(config if config is not None else getattr(model, "config", {}) or {})
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
        """Registered names in registration order (``causal_only``: next-word models only)."""
        if not causal_only:
            return list(self._specs)
        return [n for n in self._specs if self.get(n).causal]

    def __contains__(self, name: str) -> bool:
        return name in self._specs

    def __len__(self) -> int:
        return len(self._specs)

    def get(self, name: str) -> LoadedModel:
        """The loaded model ``name``; ``KeyError`` for an unknown name."""
        if name not in self._specs:
            raise KeyError(name)
        with self._lock:
            if name not in self._loaded:
                spec = self._specs[name]
                model = load_any(spec["run_dir"])
                model.eval()
                config = dict(getattr(model, "config", {}) or {})
                heldout = spec["heldout"]
                if heldout is None:
                    heldout = lambda c=config: heldout_from_config(c)  # noqa: E731
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

    def load_all(self) -> None:
        """Load every model now (so the first request is fast and errors show at start)."""
        for n in self._specs:
            self.get(n)
