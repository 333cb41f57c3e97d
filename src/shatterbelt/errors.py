"""Errors that reach users as one line, never as a traceback.

Every bad input (scenario file, CLI flag, API request) is turned into a
:class:`ShatterbeltError` whose message names the offending field and the
reason.  The CLI catches it, prints ``error: <message>`` and exits with 2.
"""

from __future__ import annotations


class ShatterbeltError(Exception):
    """A user-facing error: one line, naming the field and the reason."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


class ScenarioError(ShatterbeltError):
    """A scenario file or overlay is invalid."""


class UsageError(ShatterbeltError):
    """A CLI flag or API argument is invalid."""
