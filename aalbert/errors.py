"""The toolkit's own user-facing errors, and how command lines report them.

Everything the toolkit raises because of what a *user* gave it (a bad config key, a corrupt
audio file, a corpus without the labels a task needs, a damaged checkpoint) derives from
:class:`AalbertError`; its message says what is wrong and what to do, so a command line prints
it as one line. Any other exception (a shape bug in a task's forward, a bug in a plugin or in
the toolkit) is a bug: the command line prints its traceback, so the contributor sees the file
and line. ``--debug`` prints the traceback of every error.

The classes derive from :class:`AalbertError` only, never from a builtin type as well: code that
handles one catches that class (``except ConfigError``), so an ``except ValueError`` written for
numpy's or torch's errors does not also swallow the toolkit's.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import traceback

# Exit codes of every command: 0 ok; 2 a usage error (argparse's code: flags that do not go
# together); 1 a user error (bad config, data, checkpoint: one line says what to fix) and, as
# Python itself exits, any other exception (a bug: its traceback is printed).
USAGE_EXIT = 2
USER_ERROR_EXIT = 1
BUG_EXIT = 1


class AalbertError(Exception):
    """Base of every user-facing error of the toolkit."""

    def command_message(self) -> str:
        """What a command line prints: the message in the words of its flags (see CheckpointNeededError)."""
        return str(self)


class UsageError(AalbertError):
    """Command-line flags that do not go together or are missing (exit 2, as argparse's own)."""


class BadInputError(AalbertError):
    """A value given by the user (option, file content) that cannot be used."""


class MissingFileError(AalbertError):
    """A file or folder the user pointed at (or that a task needs) does not exist."""


class CheckpointNeededError(BadInputError):
    """An upstream that is a checkpoint loader (``*_local``, ``*_url``) asked for without one.

    Python callers (torch.hub) read the keyword they pass (``ckpt=``); a command line reads its
    flag (``-k``), which :meth:`command_message` names instead."""

    def __init__(self, entry: str, what: str):
        self.entry, self.what = entry, what
        super().__init__(f"{entry} needs ckpt=<{what}>")

    def command_message(self) -> str:
        return f"-u {self.entry} loads a checkpoint: give the {self.what} with -k CKPT"


class TaskRequirementError(AalbertError):
    """A task whose declarations (main metric, split policy, labels, output size) do not fit its
    own code or the corpus; raised before training starts, and the message names the task."""


def close_progress_bars() -> None:
    """Close every open tqdm bar, so the next message starts on a line of its own."""
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency; nothing to close without it
        return
    for bar in list(getattr(tqdm, "_instances", ())):
        bar.close()


def report_error(err: BaseException, prog: str, debug: bool = False) -> int:
    """Print ``err`` for a command line and return its exit code.

    A user error is one line (``PROG: error: MESSAGE``, ``PROG`` the name the user invoked, e.g.
    ``aalbert downstream`` or ``run_downstream.py``); anything else is its traceback. With
    ``debug`` every error shows its traceback.
    """
    if isinstance(err, BrokenPipeError):
        # whoever read our output stopped reading (`aalbert hub list | head`): nothing to report;
        # stdout goes to devnull so the interpreter's last flush does not fail on the pipe again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return USER_ERROR_EXIT
    close_progress_bars()
    user_error = isinstance(err, AalbertError)
    if debug or not user_error:
        traceback.print_exception(type(err), err, err.__traceback__, file=sys.stderr)
    if user_error:
        assert isinstance(err, AalbertError)
        print(f"{prog}: error: {err.command_message()}", file=sys.stderr)
    else:
        origin = innermost_own_frame(err)
        if origin is not None:  # the last line points at the code to fix, not at torch's internals
            print(
                f"{prog}: {type(err).__name__} raised from {origin.filename}, line {origin.lineno}, in {origin.name}",
                file=sys.stderr,
            )
    if isinstance(err, UsageError):
        return USAGE_EXIT
    return USER_ERROR_EXIT if user_error else BUG_EXIT


def _library_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    dirs = {paths.get("stdlib"), paths.get("platstdlib")}
    try:
        import torch

        dirs.add(os.path.dirname(torch.__file__))
    except ImportError:  # pragma: no cover
        pass
    return tuple(os.path.join(d, "") for d in dirs if d)


def innermost_own_frame(err: BaseException) -> traceback.FrameSummary | None:
    """The deepest frame of ``err``'s traceback outside the standard library and torch: where a
    task's (or plugin's) code called into the library that raised."""
    libraries = _library_dirs()
    frames = [f for f in traceback.extract_tb(err.__traceback__) if not f.filename.startswith(libraries)]
    return frames[-1] if frames else None
