"""Interim: the forecast commands move here from rnnlab.tasks.forecast (architecture v2)."""

from rnnlab.tasks.forecast import app  # noqa: F401
