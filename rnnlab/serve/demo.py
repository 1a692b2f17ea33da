"""The demo models as a registry for the explorer (they are trained by
``rnnlab.tasks.demo.build.ensure_demo``; the server trains nothing).

>>> reg = demo_registry(ensure_demo())          # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from rnnlab.data.builtin import corpus_text
from rnnlab.serve.registry import ModelRegistry
from rnnlab.tasks.demo.build import MODELS, data_description


def demo_registry(root: Path) -> ModelRegistry:
    """A registry of the demo models in ``root`` (held-out text: the corpus's val split)."""
    reg = ModelRegistry()
    meta = {"data": data_description()}
    for name, label, _kind, _arch, _b in MODELS:
        reg.add_run(name, root / name, label=label, heldout=lambda: corpus_text("val"), meta=meta)
    return reg
