"""The one place where known failures become ``Error: ...`` and a non-zero exit."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from autoaccel.errors import AutoAccelError

DEBUG_ENV = "AUTOACCEL_DEBUG"
EXIT_ERROR = 2


def run_with_error_mapping(command: Callable[[], object]) -> None:
    """Run the CLI; an :class:`AutoAccelError` is shown as ``Error: <message>``.

    ``AUTOACCEL_DEBUG=1`` lets the exception through with its traceback. Unknown exceptions
    always keep theirs: they are bugs, and hiding them helps nobody.
    """
    try:
        command()
    except AutoAccelError as error:
        if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
            raise
        print(f"Error: {error}", file=sys.stderr)
        sys.exit(EXIT_ERROR)
