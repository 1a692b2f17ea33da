"""Interim: the classify commands move here from rnnlab.tasks.classify (architecture v2)."""

from rnnlab.tasks.classify import app  # noqa: F401
