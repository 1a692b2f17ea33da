"""Interim: the memory commands move here from rnnlab.tasks.memory (architecture v2)."""

from rnnlab.tasks.memory import app  # noqa: F401
