"""Applications, one package per task, one role per file (see docs/ARCHITECTURE.md):
``lm`` (language models), ``fillin`` (the explorer's fill-in-the-blank model), ``forecast``,
``translate``, ``speech``, ``classify``, ``memory`` (the long-range memory lab) and ``demo``
(builds the explorer's demo models). ``runs.py`` loads any run the explorer shows.
"""
