"""Known failures, each carrying a message the user can act on.

The CLI turns every :class:`AutoAccelError` into ``Error: <message>`` on stderr and its
``exit_code``, in one place (``autoaccel/cli/_errors.py``): 2 when what the user gave is wrong
(fix the command, the script or the file), 1 when the command was right and the run failed
(a baseline that fails, a storage that breaks). Anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

EXIT_RUN_FAILED = 1
EXIT_BAD_INPUT = 2


class AutoAccelError(Exception):
    """A failure the user can fix; ``str(error)`` says what happened and what to do."""

    exit_code = EXIT_BAD_INPUT


class RunFailedError(AutoAccelError):
    """The command was right, but the run could not do its job."""

    exit_code = EXIT_RUN_FAILED


class TaskError(AutoAccelError):
    """The user's script or its ``autoaccel.Task`` cannot be used."""


class ConfigError(AutoAccelError):
    """A configuration (JSON, flag) names an unknown knob or a value the hardware cannot run."""


class SearchSpaceError(AutoAccelError):
    """A search-space YAML file is malformed."""


class StorageError(AutoAccelError):
    """The study storage cannot be opened, or a study is missing or unreadable."""


class StudyError(AutoAccelError):
    """A stored study cannot be continued as asked (other hardware, other search space...)."""


class StorageFault(StorageError, RunFailedError):
    """The storage opened, then failed while it was used (read-only, full, damaged, gone)."""


class BaselineFailedError(RunFailedError):
    """The user's own baseline configuration fails in the user's code: tuning cannot start."""


class ReportError(AutoAccelError):
    """A report cannot be written in the format or to the place asked for."""
