"""Entry point of the ``shatterbelt`` command.

Commands live in sibling modules: ``run``, ``politics``, ``experiments`` and ``report`` each
define a module-level Typer ``app`` whose commands are merged into this one; ``epstein`` exposes
``register(app)`` (its commands go into a sub-app of their own).  This file only assembles them, adds ``--version``, and turns every user
error into one line on stderr (``error: <field>: <reason>``) with exit status 2, never a
traceback.
"""

from __future__ import annotations

import signal
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Annotated

import typer

from .. import __version__
from ..errors import ShatterbeltError
from ..scenario.params import ParameterRangeWarning
from . import author, crosscase, end_startup, epstein, experiments, export, inference, politics, report  # noqa: F401  (inference, crosscase register into experiments.app)
from . import run as run_commands
from . import serve as serve_commands
from .common import extra_message, missing_extra

app = typer.Typer(
    name="shatterbelt",
    help="Simulate a state broken into quarrelling sectarian microstates (default: Iraq 2010-2014).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        print(f"shatterbelt {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", help="print the version and exit", callback=_version, is_eager=True)
    ] = False,
) -> None:
    """Simulate a state broken into quarrelling sectarian microstates (default: Iraq 2010-2014)."""




def _registered(register: Callable[[typer.Typer], None]) -> typer.Typer:
    """A sub-app holding the commands of a module that exposes ``register(app)``."""
    sub = typer.Typer()
    register(sub)
    return sub


# in the order `shatterbelt --help` lists them
app.add_typer(run_commands.app)
app.add_typer(politics.app)
app.add_typer(_registered(epstein.register))
app.add_typer(experiments.app)
app.add_typer(report.app)
app.add_typer(export.app)
app.add_typer(author.app)
app.add_typer(serve_commands.app)


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    """A parameter set outside its documented range: ``warning: <field>: <reason>`` on stderr."""
    if issubclass(category, ParameterRangeWarning):
        print(f"warning: {message}", file=sys.stderr)
    else:
        _show_warning(message, category, filename, lineno, file, line)


_show_warning = warnings.showwarning


#: signals that end any command the way Ctrl-C does (``run`` installs its own, which also write the
#: months completed; an ensemble keeps the runs it stored); the exit status is 128 + the signal's number
TERM_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


@contextmanager
def _terminate_as_interrupt() -> Iterator[list[int]]:
    """SIGINT, SIGTERM and SIGHUP raise KeyboardInterrupt, so every command ends them alike;
    yields the list of signals received."""
    got: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        got.append(signum)
        raise KeyboardInterrupt

    saved = {}
    try:
        for s in TERM_SIGNALS:
            saved[s] = signal.signal(s, handler)
    except ValueError:  # not the main thread (main() called from a worker): leave the signals alone
        pass
    try:
        yield got
    finally:
        for s, h in saved.items():
            signal.signal(s, h)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit status (0 ok, 2 user error, 128 + signal when interrupted)."""
    end_startup()
    warnings.showwarning = _one_line_warning
    with _terminate_as_interrupt() as got:
        rc = _main(argv)
    if got and rc == 130:  # Typer ends an interrupted command with 130 and no word: say which signal
        print(f"error: interrupted ({signal.Signals(got[0]).name})", file=sys.stderr)
        return 128 + got[0]
    return rc


def _main(argv: list[str] | None) -> int:
    try:
        rv = app(args=argv, standalone_mode=False)
        return int(rv) if isinstance(rv, int) else 0
    except ShatterbeltError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        extra = missing_extra((exc.name or "").split(".")[0])
        if extra is None:
            raise
        command = next((a for a in (argv if argv is not None else sys.argv[1:]) if not a.startswith("-")), "shatterbelt")
        print(f"error: {extra_message(command, extra)}", file=sys.stderr)
        return 2
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        print("error: interrupted", file=sys.stderr)
        return 130
    except typer.TyperException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            ctx = getattr(exc, "ctx", None)
            print(ctx.get_help() if ctx is not None else exc.format_message())
            return 0
        msg = " ".join(exc.format_message().split())
        print(f"error: {msg}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 2) or 2)
    except KeyboardInterrupt:
        print("error: interrupted; results computed so far were kept", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
