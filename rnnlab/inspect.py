"""See inside a trained model: ``find_cells``, ``connectivity``, ``intervene``, ``units_on`` and
``MatchIndex`` (select & match). The computations live in ``rnnlab.tasks.inspect`` (they need
the engine and the tokenizers, which the tasks layer may import); this module re-exports them
and loads them on first use, like ``rnnlab`` does for the engine, so importing it is cheap.

>>> from rnnlab import inspect as ri                                   # doctest: +SKIP
>>> table = ri.find_cells(load_lm("runs/shakespeare"), text)           # doctest: +SKIP
>>> table.top("inside quotes", 3)                                      # doctest: +SKIP
"""

from __future__ import annotations

_WHERE = {
    "find_cells": "cells",
    "CellTable": "cells",
    "CellRow": "cells",
    "pearson": "cells",
    "connectivity": "connectivity",
    "Connectivity": "connectivity",
    "intervene": "intervene",
    "Intervention": "intervene",
    "units_on": "match",
    "MatchIndex": "match",
    "char_detectors": "detectors",
    "word_detectors": "detectors",
}


def __getattr__(name: str):
    if name in _WHERE:
        from importlib import import_module

        return getattr(import_module(f"rnnlab.tasks.inspect.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'rnnlab.inspect' has no attribute {name!r}")


__all__ = list(_WHERE)
