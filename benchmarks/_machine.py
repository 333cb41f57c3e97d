"""The machine description every benchmark writes beside its figures (one implementation for all)."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any


def machine(modules: tuple[str, ...] = ("numba",)) -> dict[str, Any]:
    """CPU model, cores, memory, OS, versions (Python, NumPy and ``modules``), numba threads, SIMD, load."""
    import numpy
    import psutil

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: dict[str, Any] = {
        "cpu": cpu,
        "logical_cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    for mod in modules:
        try:
            info[mod] = __import__(mod).__version__
        except ImportError:
            info[mod] = None
    try:
        import numba

        info["numba_threads"] = numba.config.NUMBA_NUM_THREADS
    except ImportError:
        pass
    try:
        flags = Path("/proc/cpuinfo").read_text()
        info["simd"] = [f for f in ("avx2", "avx512f", "avx512dq") if f" {f} " in flags]
    except OSError:
        pass
    return info
