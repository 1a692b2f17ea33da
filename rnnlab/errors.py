"""User-facing errors. The CLI turns these into one line and an exit code; no traceback.

Exit codes (documented in the README):
    1  unexpected internal error (a bug: please report it)
    2  bad input: a missing/empty/malformed file, an invalid option or value
    3  checkpoint problem: missing, truncated, corrupted, or from another task/architecture
  130  interrupted (Ctrl-C); the last good checkpoint is kept
"""

from __future__ import annotations


class RnnlabError(Exception):
    """Base class: an error whose message is meant for the user."""

    exit_code = 1


class InputError(RnnlabError, ValueError):
    """Bad user input (file, option or value). The message says what was expected."""

    exit_code = 2


class CheckpointError(RnnlabError):
    """A run directory that cannot be loaded: missing, corrupt, or of another kind."""

    exit_code = 3
