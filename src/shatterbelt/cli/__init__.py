"""The ``shatterbelt`` command line (Typer).

Started as the ``shatterbelt`` command (or ``python -m shatterbelt``), this package first makes
a Ctrl-C, SIGTERM or SIGHUP during start-up (the imports of NumPy, numba, pyarrow: a second or
more) end the process with one line and exit status 128 + the signal's number, never an import
traceback; :func:`shatterbelt.cli.main.main` gives the signals back to each command.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

#: the signals that end a command during start-up with one line
STARTUP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


def _startup_interrupt(signum: int, frame: FrameType | None) -> None:
    os.write(2, f"error: interrupted ({signal.Signals(signum).name}) during start-up; nothing was done\n".encode())
    os._exit(128 + signum)


def _started_as_command() -> bool:
    prog = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return prog in ("shatterbelt", "__main__.py") or (prog == "-m" and "shatterbelt" in sys.modules)


def end_startup() -> None:
    """Give the start-up signals back their usual handlers (Ctrl-C -> KeyboardInterrupt)."""
    for s in STARTUP_SIGNALS:
        if signal.getsignal(s) is _startup_interrupt:
            signal.signal(s, signal.default_int_handler if s == signal.SIGINT else signal.SIG_DFL)


if _started_as_command():
    for _s in STARTUP_SIGNALS:
        signal.signal(_s, _startup_interrupt)
