"""The one place where known failures become ``Error: ...`` and a non-zero exit."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable
from pathlib import Path

from autoaccel import _format as fmt
from autoaccel.errors import EXIT_RUN_FAILED, AutoAccelError

DEBUG_ENV = "AUTOACCEL_DEBUG"

# A file autoaccel writes (a recommendation, weights, a trial's folder) that the system
# refused: what to do about each refusal.
_FILE_ADVICE = {
    errno.ENOSPC: "Free space on its disk (df -h {folder}), then run the command again",
    errno.EDQUOT: "Your disk quota is used up: free some space, then run the command again",
    errno.EROFS: "Run autoaccel from a folder on a writable file system",
    errno.EACCES: "Check that you may write there (ls -ld {folder}), or run autoaccel from a "
    "folder you can write",
    errno.EPERM: "Check that you may write there (ls -ld {folder}), or run autoaccel from a "
    "folder you can write",
}


def run_with_error_mapping(command: Callable[[], object]) -> None:
    """Run the CLI; an :class:`AutoAccelError` is shown as ``Error: <message>``, and so is
    a file the system would not let autoaccel write (no space, no permission).

    ``AUTOACCEL_DEBUG=1`` lets the exception through with its traceback. Unknown exceptions
    always keep theirs: they are bugs, and hiding them helps nobody.
    """
    try:
        command()
    except (AutoAccelError, OSError) as error:
        message = str(error) if isinstance(error, AutoAccelError) else file_refusal(error)
        if message is None or os.environ.get(DEBUG_ENV, "") not in ("", "0"):
            raise
        print(f"Error: {fmt.printable(message)}", file=sys.stderr)
        sys.exit(error.exit_code if isinstance(error, AutoAccelError) else EXIT_RUN_FAILED)


def file_refusal(error: OSError) -> str | None:
    """What to say about a file the system refused, or None for another ``OSError``."""
    advice = _FILE_ADVICE.get(error.errno or 0)
    if advice is None or error.filename is None:
        return None
    path = Path(os.fsdecode(error.filename))
    folder = path.parent if path.parent != Path() else Path.cwd()
    return f"{path}: {error.strerror}. {advice.format(folder=folder)}."
