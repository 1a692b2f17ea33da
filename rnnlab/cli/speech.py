"""Interim: the speech commands move here from rnnlab.tasks.speech (architecture v2)."""

from rnnlab.tasks.speech._old import app  # noqa: F401
