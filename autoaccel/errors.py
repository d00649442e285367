"""Known failures, each carrying a message the user can act on.

The CLI turns every :class:`AutoAccelError` into ``Error: <message>`` on stderr and a
non-zero exit, in one place (``autoaccel/cli/_errors.py``). Anything else is a bug and keeps
its traceback.
"""

from __future__ import annotations


class AutoAccelError(Exception):
    """A failure the user can fix; ``str(error)`` says what happened and what to do."""


class TaskError(AutoAccelError):
    """The user's script or its ``autoaccel.Task`` cannot be used."""


class ConfigError(AutoAccelError):
    """A configuration (JSON, flag) names an unknown knob or a value the hardware cannot run."""


class SearchSpaceError(AutoAccelError):
    """A search-space YAML file is malformed."""


class StorageError(AutoAccelError):
    """The study storage cannot be opened, read or written (read-only, full, damaged), or
    a study is missing or unreadable."""


class StudyError(AutoAccelError):
    """A stored study cannot be continued as asked (other hardware, other search space...)."""


class BaselineFailedError(AutoAccelError):
    """The user's own baseline configuration fails in the user's code: tuning cannot start."""


class ReportError(AutoAccelError):
    """A report cannot be written in the format or to the place asked for."""
