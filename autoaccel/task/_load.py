"""Finding the ``autoaccel.Task`` in a user's script: ``train.py`` or ``train.py:name``."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib.util
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

from autoaccel.errors import TaskError
from autoaccel.task._task import Task

DEFAULT_ATTRIBUTE = "task"


@dataclasses.dataclass(frozen=True)
class ScriptTarget:
    """A script path, the attribute holding its Task (``train.py:my_task``), and the
    command-line arguments the script gets (``autoaccel tune train.py -- --lr 0.1``)."""

    path: Path
    attribute: str = DEFAULT_ATTRIBUTE
    args: tuple[str, ...] = ()

    @property
    def argv(self) -> list[str]:
        """``sys.argv`` as the script sees it: its own path, then its arguments."""
        return [str(self.path), *self.args]

    @property
    def spec(self) -> str:
        suffix = "" if self.attribute == DEFAULT_ATTRIBUTE else f":{self.attribute}"
        return f"{self.path}{suffix}"

    @property
    def name(self) -> str:
        """The default study name: the script's file name without ``.py``."""
        return self.path.stem

    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def resolve_script(target: str, args: tuple[str, ...] | list[str] = ()) -> ScriptTarget:
    """Check that ``target`` names an existing Python file; nothing is imported. ``args``
    are the script's own command-line arguments."""
    path_text, attribute = target, DEFAULT_ATTRIBUTE
    head, sep, tail = target.rpartition(":")
    if sep and tail.isidentifier() and head:
        path_text, attribute = head, tail
    path = Path(path_text).expanduser()
    try:
        exists, is_file = path.exists(), path.is_file()
    except OSError as error:  # a name too long, a folder it may not enter
        raise TaskError(f"cannot use {path} as the training script: {error.strerror}.") from None
    if not exists:
        raise TaskError(
            f"{path}: no such file. Pass the path of your training script, "
            "for example: autoaccel tune examples/mlp.py"
        )
    if not is_file or path.suffix != ".py":
        raise TaskError(f"{path} is not a Python file (.py) holding an autoaccel.Task.")
    return ScriptTarget(path.resolve(), attribute, tuple(args))


def load_task(target: str | ScriptTarget) -> Task:
    """Import the user's script (its ``__main__`` block does not run) and return its Task.

    The script sees ``script.argv`` as ``sys.argv`` while it loads, so a module-level
    ``parser.parse_args()`` reads its own arguments, never the caller's.
    Every way this can go wrong becomes a :class:`TaskError` naming the file and what is
    wrong; an exception raised by the script itself carries the script's traceback.
    """
    script = target if isinstance(target, ScriptTarget) else resolve_script(target)
    with _script_argv(script.argv):
        module = _import_script(script.path)
    if not hasattr(module, script.attribute):
        found = [name for name, value in vars(module).items() if isinstance(value, Task)]
        hint = (
            f" It defines these Tasks: {', '.join(found)}; pass one as {script.path}:NAME."
            if found
            else f" Add `{DEFAULT_ATTRIBUTE} = autoaccel.Task(...)` to it, or name yours as "
            f"{script.path}:NAME."
        )
        raise TaskError(f"{script.path} has no {script.attribute!r}.{hint}")
    value = getattr(module, script.attribute)
    if callable(value) and not isinstance(value, Task):
        value = _call_factory(script, value)
    if not isinstance(value, Task):
        raise TaskError(
            f"{script.spec} is a {type(value).__name__}, not an autoaccel.Task "
            "(or a function with no arguments that returns one)."
        )
    if value.name is None:
        value.name = script.name
    return value


@contextlib.contextmanager
def _script_argv(argv: list[str]) -> Iterator[None]:
    saved = sys.argv
    sys.argv = list(argv)
    try:
        yield
    finally:
        sys.argv = saved


def _import_script(path: Path) -> ModuleType:
    # The script's folder goes on sys.path so its own helper modules import, and the module
    # is registered under its file name so DataLoader workers can unpickle its classes.
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = path.stem if path.stem not in sys.modules else f"_autoaccel_user_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise TaskError(f"{path} cannot be imported as a Python module.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as error:
        del sys.modules[name]
        raise TaskError(
            f"{error.filename or path}, line {error.lineno}: syntax error: {error.msg}. "
            "Fix the script and run again."
        ) from None
    except TaskError as error:
        del sys.modules[name]
        raise TaskError(f"{path}: {error}") from None
    except SystemExit as error:  # argparse exits on arguments it does not know
        del sys.modules[name]
        raise TaskError(
            f"{path} exited while loading (sys.exit({error.code})). A script that reads "
            f"its command line gets the arguments given after --, as in: autoaccel tune "
            f"{path.name} -- --lr 0.1"
        ) from None
    except Exception as error:
        del sys.modules[name]
        raise TaskError(
            f"{path} raised {type(error).__name__} while loading: {error}\n"
            f"{user_traceback(error, path.parent)}"
        ) from None
    return module


def _call_factory(script: ScriptTarget, factory: Callable[[], object]) -> object:
    try:
        with _script_argv(script.argv):
            return factory()
    except TaskError as error:
        raise TaskError(f"{script.spec}: {error}") from None
    except Exception as error:
        raise TaskError(
            f"{script.spec}() raised {type(error).__name__}: {error}\n"
            f"{user_traceback(error, script.path.parent)}"
        ) from None


def user_traceback(error: BaseException, user_folder: Path) -> str:
    """The traceback of ``error`` from its first frame in the user's folder onwards."""
    frames = traceback.extract_tb(error.__traceback__)
    start = next(
        (i for i, frame in enumerate(frames) if is_user_file(frame.filename, user_folder)), 0
    )
    lines = ["Traceback (most recent call last):\n"]
    lines += traceback.format_list(frames[start:])
    lines += traceback.format_exception_only(type(error), error)
    return "".join(lines).rstrip()


def is_user_file(filename: str, user_folder: Path) -> bool:
    """Whether a traceback frame is the user's code rather than a library's or ours."""
    path = Path(filename)
    if "site-packages" in path.parts or "dist-packages" in path.parts:
        return False
    if Path(__file__).resolve().parents[1] in path.resolve().parents:
        return False
    return user_folder.resolve() in path.resolve().parents
