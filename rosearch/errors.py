"""The package's exceptions.

`RosearchError` is what a user can cause (a bad config, a missing resource); the CLI turns it
into one message and exit code 2. Everything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class RosearchError(Exception):
    """Base class of every error a user can cause and fix."""


class ConfigError(RosearchError):
    """A study or config file holds a value that cannot work."""

    def __init__(self, key: str, value: object, fix: str) -> None:
        self.key = key
        self.value = value
        self.fix = fix
        super().__init__(f"{key}: got {value!r}. {fix}")


class ResourceUnavailable(RosearchError):
    """A model, dataset or attack resource cannot be reached from this machine."""


class TrialFailure(Exception):
    """A trial failed for a reason that is data, not a bug (NaN loss, out of memory, attack crash).

    The objective records the reason in the trial's user attrs and the study goes on; see
    `rosearch.search.objective.tolerated`.
    """
