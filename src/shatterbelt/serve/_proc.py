"""Entry point of a worker process: ``python -m shatterbelt.serve._proc DB DATA PARENT POLL``."""

from __future__ import annotations

import sys
import warnings

from ..scenario.params import ParameterRangeWarning
from .worker import worker_main

if __name__ == "__main__":  # pragma: no cover  (started by WorkerPool)
    # a lever outside its documented range was reported to the client when the job was submitted
    warnings.simplefilter("ignore", ParameterRangeWarning)
    worker_main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
