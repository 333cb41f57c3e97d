"""Entry point of the ``shatterbelt`` command.

Commands live in sibling modules, each exposing ``register(app)``; this file
only assembles them and turns every user error into one line on stderr
(``error: <field>: <reason>``) with exit status 2, never a traceback.
"""

from __future__ import annotations

import importlib
import sys

import typer

from ..errors import ShatterbeltError

app = typer.Typer(
    name="shatterbelt",
    help="Simulate a state broken into quarrelling sectarian microstates (default: Iraq 2010-2014).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

# Each module registers its own commands; a module that is absent is skipped so
# that partial installs (and work in progress) still give a working CLI.
COMMAND_MODULES = ("run", "politics", "epstein", "experiments", "report", "serve")

for _name in COMMAND_MODULES:
    try:
        _mod = importlib.import_module(f"{__package__}.{_name}")
    except ModuleNotFoundError as exc:  # only skip the module itself being absent
        if exc.name != f"{__package__}.{_name}":
            raise
        continue
    _mod.register(app)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit status (0 ok, 2 user error, 130 interrupted)."""
    try:
        rv = app(args=argv, standalone_mode=False)
        return int(rv) if isinstance(rv, int) else 0
    except ShatterbeltError as exc:
        print(f"error: {exc}", file=sys.stderr)
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
