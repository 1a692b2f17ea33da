"""Interim: the translate commands move here from rnnlab.tasks.translate (architecture v2)."""

from rnnlab.tasks.translate import app  # noqa: F401
