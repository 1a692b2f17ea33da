"""Interim: the lm commands move here from rnnlab.tasks.lm (architecture v2)."""

from rnnlab.tasks.lm import app  # noqa: F401
