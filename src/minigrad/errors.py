"""The one family of exceptions minigrad raises for problems a user can fix.

Each error carries a message that says what went wrong and, where it helps,
a hint that says what to do. The command line prints both and exits non-zero
instead of showing a traceback.
"""


class MinigradError(Exception):
    """Base class: a problem with the user's input, files or environment."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"


class DeviceError(MinigradError):
    """A device was asked for that this machine cannot provide."""


class GraphError(MinigradError):
    """Backward was asked of a graph that no longer exists or never did."""


class ConfigError(MinigradError):
    """A run configuration is missing, unreadable or invalid."""

    exit_code = 2


class DataError(MinigradError):
    """A data file is missing or has a malformed line."""

    exit_code = 2


class VocabularyError(MinigradError):
    """A word is not in the run's vocabulary."""


class CheckpointError(MinigradError):
    """A saved run or weights file is missing, foreign or corrupt."""


class TrainingDiverged(MinigradError):
    """The loss became NaN or infinite, or exploded past ``train.max_loss_ratio``."""
