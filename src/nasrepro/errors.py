"""The one exception type users see: a single line naming the file, key or value at fault."""

import sysconfig
import traceback
from pathlib import Path

# Where code that is not the user's lives: Python's own library, installed packages, and nasrepro itself.
NOT_USERS = tuple(str(Path(p).resolve()) for p in {*(sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")),
                                                    str(Path(__file__).resolve().parent)})


class NasReproError(Exception):
    """Bad input or a failed check; its message is one line meant for the user."""


def one_line(error: BaseException) -> str:
    """The line a user sees for `error`: the project's own message; a file error with its path and what to
    do; anything else with its type, marked as unexpected (the traceback goes to the log, not the terminal)."""
    if isinstance(error, NasReproError):
        text = str(error)
    elif isinstance(error, KeyboardInterrupt):
        text = "interrupted (Ctrl-C): nothing half-written is kept; rerun the same command to continue"
    elif isinstance(error, OSError):
        what = error.strerror or str(error)
        where = f"{error.filename}: " if error.filename else ""
        hint = {13: "check the file's permissions", 28: "free some disk space and rerun",
                2: "check the path (a missing input is re-made by rerunning the workflow)",
                122: "free some disk space (quota) and rerun"}.get(error.errno, "check the file and rerun")
        text = f"{where}{what} ({hint})"
    elif isinstance(error, RecursionError):
        text = f"input nested too deeply to read ({error}); the file is malformed"
    elif isinstance(error, (ValueError, TypeError, KeyError)):
        text = f"bad value: {type(error).__name__}: {error}"
    else:
        text = f"unexpected {type(error).__name__}: {error} (likely a bug: please report it with the log)"
    return " ".join(text.split())  # one line, whatever the message held


def users_line(error: BaseException) -> str:
    """Where the user's own code raised `error` ('file, line N'): a SyntaxError's own place, else the deepest
    frame outside Python, its installed packages and nasrepro (the last frame when there is none)."""
    if isinstance(error, SyntaxError) and error.filename:
        return f"{error.filename}, line {error.lineno}"
    frames = traceback.extract_tb(error.__traceback__)
    theirs = [f for f in frames if not f.filename.startswith("<") and not str(Path(f.filename).resolve()).startswith(NOT_USERS)]
    frame = (theirs or frames or [None])[-1]
    return f"{frame.filename}, line {frame.lineno}" if frame else "no traceback"


def raised(error: BaseException) -> str:
    """'TypeError: message (file, line N)': an error of the user's code, in one line."""
    message = error.msg if isinstance(error, SyntaxError) else str(error)
    return f"{type(error).__name__}: {message} ({users_line(error)})"
