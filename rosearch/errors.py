"""The package's exceptions.

`RosearchError` is what a user can cause (a bad config, a missing resource); the CLI turns it
into one message and exit code 2. Everything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import reprlib

#: Values quoted in messages are cut to a few dozen items and characters: a message is never
#: built from an unbounded value (a huge list, a long string, a recursive structure).
_SHORT = reprlib.Repr()
_SHORT.maxstring = 80
_SHORT.maxother = 80
_SHORT.maxlist = _SHORT.maxdict = _SHORT.maxtuple = _SHORT.maxset = 5
_SHORT.maxlevel = 3


def short_repr(value: object) -> str:
    """`repr(value)`, bounded in length whatever the value holds."""
    return _SHORT.repr(value)


class RosearchError(Exception):
    """Base class of every error a user can cause and fix."""


class ConfigError(RosearchError):
    """A study or config file holds a value that cannot work."""

    def __init__(self, key: str, value: object, fix: str) -> None:
        self.key = key
        self.value = value
        self.fix = fix
        super().__init__(f"{key}: got {short_repr(value)}. {fix}")


class ResourceUnavailable(RosearchError):
    """A model, dataset or attack resource cannot be reached from this machine."""


class TrialFailure(Exception):
    """A trial failed for a reason that is data, not a bug (NaN loss, out of memory, attack crash).

    The objective records the reason in the trial's user attrs and the study goes on; see
    `rosearch.search.objective.tolerated`.
    """
