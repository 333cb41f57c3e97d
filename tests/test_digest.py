"""Guard for refactoring: fixed runs must give byte-identical output files.

The digests in ``tests/data/digests.json`` were taken from the engine as it stood before the
architecture work.  A change that alters any model result fails here; a change that *means* to
alter results regenerates them with ``python tests/test_digest.py --update`` and says so in
its commit message.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

from shatterbelt.resolve import load_scenario
from shatterbelt.sim import Simulation

HERE = Path(__file__).parent
TINY = str(HERE / "data" / "tiny.yaml")
DIGESTS = HERE / "data" / "digests.json"
FILES = ("panel.parquet", "events.parquet", "events.csv", "summary.json", "scenario.resolved.yaml")

#: name -> (scenario spec, scale, seed, until, backend)
RUNS: dict[str, tuple[str, float, int, str | None, str]] = {
    "iraq-0.01-s0-numpy": ("iraq-2010", 0.01, 0, None, "numpy"),
    "iraq-0.01-s0-numba": ("iraq-2010", 0.01, 0, None, "numba"),
    "iraq-0.01-s7-numpy": ("iraq-2010", 0.01, 7, None, "numpy"),
    "iraq-0.01-s11-numba": ("iraq-2010", 0.01, 11, None, "numba"),
    "us-stays-0.01-s3-numpy": ("iraq-2010+us-stays", 0.01, 3, None, "numpy"),
    "scripted-0.01-s5-numba": ("iraq-2010+scripted-government", 0.01, 5, "2013-06", "numba"),
    "tiny-1.0-s1-numpy": (TINY, 1.0, 1, None, "numpy"),
    "tiny-1.0-s1-numba": (TINY, 1.0, 1, None, "numba"),
}


def digest_run(name: str, out: Path) -> dict[str, str]:
    spec, scale, seed, until, backend = RUNS[name]
    res = Simulation(load_scenario(spec), scale=scale, seed=seed, until=until, backend=backend).run()
    paths = res.write(str(out / name))
    return {f: hashlib.sha256(Path(paths[f]).read_bytes()).hexdigest() for f in FILES}


@pytest.mark.parametrize("name", sorted(RUNS))
def test_outputs_are_byte_identical_to_the_recorded_digests(name: str, tmp_path: Path) -> None:
    pytest.importorskip("numba") if RUNS[name][4] == "numba" else None
    expected = json.loads(DIGESTS.read_text())[name]
    got = digest_run(name, tmp_path)
    changed = [f for f in FILES if got[f] != expected[f]]
    assert not changed, f"{name}: {', '.join(changed)} differ from the recorded digests"


if __name__ == "__main__":  # pragma: no cover - maintenance
    import tempfile

    if "--update" not in sys.argv:
        sys.exit("usage: python tests/test_digest.py --update")
    with tempfile.TemporaryDirectory() as d:
        table = {n: digest_run(n, Path(d)) for n in sorted(RUNS)}
    DIGESTS.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    print(f"wrote {DIGESTS}")
