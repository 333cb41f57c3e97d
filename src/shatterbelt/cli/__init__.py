"""The ``shatterbelt`` command line (Typer)."""
