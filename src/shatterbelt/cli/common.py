"""Helpers shared by every CLI command: one-line errors and ``--json`` output."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import numpy as np


def _default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return None if not math.isfinite(float(o)) else float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.bool_):
        return bool(o)
    if hasattr(o, "model_dump"):
        return o.model_dump(mode="json")
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def to_json(obj: Any, indent: int | None = 2) -> str:
    """Deterministic JSON (sorted keys are *not* forced: callers order their dicts)."""
    return json.dumps(obj, default=_default, indent=indent, allow_nan=False, ensure_ascii=False)


def emit_json(obj: Any) -> None:
    """Print exactly one JSON document on stdout (the ``--json`` contract)."""
    sys.stdout.write(to_json(obj) + "\n")
    sys.stdout.flush()
