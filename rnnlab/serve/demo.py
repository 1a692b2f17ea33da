"""The demo models as a registry for the explorer (``rnnlab.tasks.demo.sources`` says which:
the shipped ones, or word models trained live; the server trains nothing).

>>> reg = demo_registry(demo_models())          # doctest: +SKIP
"""

from __future__ import annotations

from rnnlab.serve.registry import ModelRegistry
from rnnlab.tasks.demo.sources import DemoModel


def demo_registry(models: list[DemoModel]) -> ModelRegistry:
    """A registry of ``models`` (each with its held-out text and its card's facts in meta)."""
    reg = ModelRegistry()
    for m in models:
        reg.add_run(m.name, m.run_dir, label=m.label, heldout=m.heldout, meta=m.meta)
    return reg
