"""Ensembles that cannot mix, and recover from damage: one regression test per failure.

Every stored run carries its identity; a folder holding another design is refused in one
line, before anything in it changes; two ensembles started together on one folder leave it
holding exactly one of them; a damaged run folder is set aside and computed again, a deleted
one written back; a damaged database, a full disk and a seed the database cannot hold are
one line each.  Runs of ``tests/data/tiny.yaml`` at scale 0.05 for six months (about 0.1 s each).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from shatterbelt.cli.main import main
from shatterbelt.experiments import store as store_mod
from shatterbelt.experiments.store import ResultStore

TINY = str(Path(__file__).parent / "data" / "tiny.yaml")
FAST = ["--scale", "0.05", "--until", "2010-12", "--workers", "1", "--quiet", "--no-report"]
DETERMINISTIC = ("runs", "summaries", "metrics", "panel", "events")


def ens(out: Path, *args: str) -> list[str]:
    return ["ensemble", TINY, *FAST, "--out", str(out), *args]


def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    rc = main(args)
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def errors(err: str) -> list[str]:
    """The stderr lines that are not repair warnings."""
    return [ln for ln in err.splitlines() if not ln.startswith("warning: ")]


def one_error(rc: int, err: str, needle: str) -> None:
    lines = errors(err)
    assert rc == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], err
    assert "Traceback" not in err


def digests(out: Path) -> dict[str, str]:
    st = ResultStore(out).open()
    try:
        return {t: st.table_digest(t) for t in DETERMINISTIC}
    finally:
        st.close()


def stored_seeds(out: Path) -> list[int]:
    """The seeds in the database, read directly (the folder may lack a manifest)."""
    import duckdb

    con = duckdb.connect(str(out / "results.duckdb"), read_only=True)
    try:
        return [int(r[0]) for r in con.execute("SELECT seed FROM runs ORDER BY run_id").fetchall()]
    finally:
        con.close()


@pytest.fixture(scope="module")
def ten(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished ensemble: 10 runs, seeds 5..14, Latin hypercube samples."""
    out = tmp_path_factory.mktemp("ident") / "ten"
    assert main(ens(out, "--runs", "10", "--seed", "5", "--sample", "lhs")) == 0
    return out


@pytest.fixture()
def copy(ten: Path, tmp_path: Path) -> Path:
    out = tmp_path / "copy"
    shutil.copytree(ten, out)
    return out


TEN = ("--runs", "10", "--seed", "5", "--sample", "lhs")


# ---------------------------------------------------------------- 1: ensembles that cannot mix
def test_resume_without_manifest_checks_identity_not_run_id(copy: Path, ten: Path, capsys) -> None:
    """Failure 1: ``rm D/manifest.json`` then a 40-run ensemble with another seed took in the 10 runs."""
    (copy / "manifest.json").unlink()
    rc, _, err = cli(ens(copy, "--runs", "40", "--seed", "0", "--sample", "lhs"), capsys)
    one_error(rc, err, "holds a different ensemble")
    assert "seed 5 there, 0 here" in err
    assert not (copy / "manifest.json").exists()  # refused before anything was written
    assert stored_seeds(copy) == list(range(5, 15))
    rc, _, err = cli(ens(copy, *TEN), capsys)  # the original command still resumes it
    assert rc == 0, err
    assert digests(copy) == digests(ten)


def test_folders_of_another_design_are_refused_without_database(copy: Path, capsys) -> None:
    (copy / "manifest.json").unlink()
    (copy / "results.duckdb").unlink()
    rc, _, err = cli(ens(copy, "--runs", "10", "--seed", "0", "--sample", "lhs"), capsys)
    one_error(rc, err, "holds a different ensemble")
    assert sorted(p.name for p in (copy / "runs").iterdir()) == [f"tiny.{i:05d}" for i in range(10)]
    assert not (copy / "results.duckdb").exists() and not (copy / "manifest.json").exists()


def test_rebuild_of_another_design_is_refused_before_the_database_is_moved(copy: Path, capsys) -> None:
    (copy / "manifest.json").unlink()
    rc, _, err = cli(ens(copy, "--runs", "10", "--seed", "0", "--sample", "lhs", "--rebuild"), capsys)
    one_error(rc, err, "holds a different ensemble")
    assert sorted(p.name for p in copy.iterdir()) == [".lock", "results.duckdb", "runs"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--scale", "0.04"], "scale 0.05 there, 0.04 here"),
        (["--until", "2010-11"], 'until "2010-12" there, "2010-11" here'),
        (["--set", "economy.corruption=0.3"], "overrides"),
        (["--sample", "none"], "sample 0 there, -1 here"),
        (["--runs", "4"], "parameters differs"),
    ],
)
def test_every_identity_field_is_checked(copy: Path, args: list[str], needle: str, capsys) -> None:
    (copy / "manifest.json").unlink()
    rc, _, err = cli(ens(copy, *TEN, *args), capsys)
    one_error(rc, err, "holds a different ensemble")
    assert needle in err


def test_a_stored_run_the_ensemble_does_not_plan_is_refused(tmp_path: Path, capsys) -> None:
    out = tmp_path / "more"
    assert main(ens(out, "--runs", "5", "--seed", "5")) == 0
    (out / "manifest.json").unlink()
    rc, _, err = cli(ens(out, "--runs", "3", "--seed", "5"), capsys)
    one_error(rc, err, "run tiny.00003 is not one of its runs")


def test_different_manifest_names_the_difference(ten: Path, capsys) -> None:
    # fewer runs is another design (more runs would grow the ensemble: tests/test_grid_growth.py)
    rc, _, err = cli(ens(ten, "--runs", "8", "--seed", "5", "--sample", "lhs"), capsys)
    one_error(rc, err, "holds a different ensemble")
    assert "runs: 10 entries there, 8 here" in err or "design" in err


def test_each_stored_run_carries_its_identity(ten: Path) -> None:
    st = ResultStore(ten).open()
    try:
        rows = st.query("SELECT run_id, seed, identity FROM runs ORDER BY run_id")
    finally:
        st.close()
    for rid, seed, ident in rows.itertuples(index=False):
        got = json.loads(ident)
        assert got["seed"] == seed and got["scale"] == 0.05 and got["until"] == "2010-12"
        assert len(got["scenario_sha256"]) == 64 and got["code_version"] and got["parameters"]
        on_disk = json.loads((ten / "runs" / rid / "run.json").read_text())["run"]["identity"]
        assert json.loads(on_disk) == got


def test_a_folder_in_use_is_refused_before_its_manifest_is_read(tmp_path: Path, capsys) -> None:
    """The manifest check and write happen under the folder's lock."""
    out = tmp_path / "busy"
    out.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
         "fcntl.flock(fd, fcntl.LOCK_EX); os.write(fd, b'4242'); print('held', flush=True); time.sleep(60)",
         str(out / ".lock")],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        rc, _, err = cli(ens(out, "--runs", "2"), capsys)
    finally:
        holder.kill()
        holder.wait()
    one_error(rc, err, "in use by another process (pid 4242)")
    assert not (out / "manifest.json").exists() and not (out / "results.duckdb").exists()
    rc, _, err = cli(ens(out, "--runs", "2"), capsys)
    assert rc == 0, err


SLOW_OPEN = (
    "import sys, time; from shatterbelt.cli.main import main; from shatterbelt.experiments.store import ResultStore\n"
    "real = ResultStore._connect\n"
    "def slow(self, rebuild):\n"
    "    print('opening', flush=True); time.sleep(3.0); real(self, rebuild)\n"
    "ResultStore._connect = slow\n"
    "sys.exit(main(sys.argv[1:]))"
)


def test_an_ensemble_opening_slowly_keeps_another_out(tmp_path: Path, capsys) -> None:
    """A delay between reading the manifest and opening the database (the window in which two
    ensembles used to mix) lets no other ensemble in: everything happens under the folder's lock."""
    out = tmp_path / "slow"
    a = subprocess.Popen([sys.executable, "-c", SLOW_OPEN, *ens(out, "--runs", "4", "--seed", "0")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert a.stdout is not None and a.stdout.readline().strip() == "opening"
        rc, _, err = cli(ens(out, "--runs", "6", "--seed", "100"), capsys)
        _, a_err = a.communicate(timeout=120)
    finally:
        if a.poll() is None:
            a.kill()
            a.wait()
    one_error(rc, err, "in use by another process")
    assert a.returncode == 0, a_err
    assert stored_seeds(out) == [0, 1, 2, 3]
    assert [r["seed"] for r in json.loads((out / "manifest.json").read_text())["runs"]] == [0, 1, 2, 3]


def race_once(root: Path, i: int) -> dict[str, Any]:
    """Start two different ensembles on one folder at the same instant; what each did, what is stored."""
    out = root / f"race{i}"
    start = time.time() + 4.0  # both processes have imported everything by then
    go = ("import sys, time; from shatterbelt.cli.main import main; t = float(sys.argv[1]); "
          "time.sleep(max(0.0, t - time.time())); sys.exit(main(sys.argv[2:]))")
    designs = {"a": ["--runs", "4", "--seed", "0"], "b": ["--runs", "6", "--seed", "100"]}
    procs = {
        k: subprocess.Popen([sys.executable, "-c", go, repr(start), *ens(out, *v)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for k, v in designs.items()
    }
    res: dict[str, Any] = {}
    for k, p in procs.items():
        try:
            _, err = p.communicate(timeout=120)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        res[k] = (p.returncode, err)
    seeds = stored_seeds(out)
    manifest = json.loads((out / "manifest.json").read_text())
    return {"procs": res, "seeds": seeds, "manifest_seeds": [r["seed"] for r in manifest["runs"]]}


def check_race(r: dict[str, Any]) -> str:
    """Assert one completed, the other refused in one line, and one design is stored; the winner."""
    rcs = {k: v[0] for k, v in r["procs"].items()}
    assert sorted(rcs.values()) == [0, 2], r
    winner = next(k for k, v in rcs.items() if v == 0)
    loser_err = r["procs"]["b" if winner == "a" else "a"][1]
    lines = errors(loser_err)
    assert len(lines) == 1 and ("in use by another process" in lines[0] or "holds a different ensemble" in lines[0]), r
    want = list(range(4)) if winner == "a" else list(range(100, 106))
    assert r["seeds"] == want and r["manifest_seeds"] == want, r
    return winner


def test_two_ensembles_started_together_one_completes(tmp_path: Path) -> None:
    check_race(race_once(tmp_path, 0))


@pytest.mark.slow
def test_two_ensembles_started_together_twenty_times(tmp_path: Path) -> None:
    """The issue's "done when": 20 simultaneous launches, each leaving exactly one design."""
    winners = [check_race(race_once(tmp_path, i)) for i in range(20)]
    assert len(winners) == 20


# ---------------------------------------------------------------- 6: recovery from damage
def _garbage_panel(d: Path) -> None:
    (d / "panel.parquet").write_bytes(b"not parquet" * 50)


def _corrupt_run_json(d: Path) -> None:
    (d / "run.json").write_text('{"run": {"run_id": ', encoding="utf-8")


def _missing_events(d: Path) -> None:
    (d / "events.parquet").unlink()


def _valid_but_foreign_parquet(d: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"x": [1, 2]}), d / "panel.parquet")


@pytest.mark.parametrize("damage", [_garbage_panel, _corrupt_run_json, _missing_events, _valid_but_foreign_parquet])
@pytest.mark.parametrize("how", ["database deleted", "--rebuild"])
def test_a_damaged_run_folder_is_set_aside_and_run_again(copy: Path, ten: Path, damage, how: str, capsys) -> None:
    damage(copy / "runs" / "tiny.00003")
    extra: list[str] = []
    if how == "database deleted":
        (copy / "results.duckdb").unlink()
    else:
        extra = ["--rebuild"]
    rc, out, err = cli(ens(copy, *TEN, "--json", *extra), capsys)
    assert rc == 0, err
    assert json.loads(out)["computed_now"] == 1
    assert any(ln.startswith("warning: runs/tiny.00003:") and "computed again" in ln for ln in err.splitlines()), err
    assert [p.name for p in (copy / "damaged").iterdir()] == ["tiny.00003.1"]
    assert digests(copy) == digests(ten)


def test_a_foreign_table_in_the_first_folder_does_not_define_the_database(copy: Path, ten: Path, capsys) -> None:
    """The database is rebuilt from folders in order: a valid Parquet file of other columns in the
    first one must be set aside, not taken as the panel's definition (and every other run refused)."""
    _valid_but_foreign_parquet(copy / "runs" / "tiny.00000")
    (copy / "results.duckdb").unlink()
    rc, out, err = cli(ens(copy, *TEN, "--json"), capsys)
    assert rc == 0 and json.loads(out)["computed_now"] == 1, err
    assert "runs/tiny.00000: panel.parquet has columns ['x']" in err
    assert digests(copy) == digests(ten)


def test_a_deleted_run_folder_is_written_back(copy: Path, ten: Path, capsys) -> None:
    shutil.rmtree(copy / "runs" / "tiny.00004")
    rc, out, err = cli(ens(copy, *TEN, "--json"), capsys)
    assert rc == 0 and json.loads(out)["computed_now"] == 0, err
    assert "runs/tiny.00004: missing or incomplete; written back from the database" in err
    assert sorted(p.name for p in (copy / "runs" / "tiny.00004").iterdir()) == sorted(store_mod.RUN_FILES)
    assert digests(copy) == digests(ten)
    (copy / "results.duckdb").unlink()  # the written-back folder rebuilds the same database
    rc, _, err = cli(ens(copy, *TEN), capsys)
    assert rc == 0, err
    assert digests(copy) == digests(ten)


@pytest.mark.parametrize("keep", [1000, 300_000, 0.5])
def test_a_truncated_database_is_one_line_then_rebuilds(copy: Path, ten: Path, keep: float, capsys) -> None:
    db = copy / "results.duckdb"
    size = db.stat().st_size
    with db.open("r+b") as f:
        f.truncate(int(size * keep) if keep < 1 else int(keep))
    rc, _, err = cli(ens(copy, *TEN), capsys)
    one_error(rc, err, "results database is damaged")
    assert "--rebuild" in err
    rc, _, err = cli(ens(copy, *TEN, "--rebuild"), capsys)
    assert rc == 0, err
    assert digests(copy) == digests(ten)


def test_a_full_disk_writing_a_run_folder_is_one_line(tmp_path: Path, ten: Path, monkeypatch, capsys) -> None:
    out = tmp_path / "full"
    calls = {"n": 0}
    real = store_mod._write_parquet

    def write(tbl: Any, path: Path) -> None:
        calls["n"] += 1
        if calls["n"] > 6:  # three runs fit, then the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real(tbl, path)

    monkeypatch.setattr(store_mod, "_write_parquet", write)
    rc, _, err = cli(ens(out, *TEN), capsys)
    one_error(rc, err, "No space left on device (ENOSPC)")
    assert not list((out / "runs").glob(".tmp-*"))
    assert len(stored_seeds(out)) == 3
    monkeypatch.setattr(store_mod, "_write_parquet", real)
    rc, _, err = cli(ens(out, *TEN), capsys)
    assert rc == 0, err
    assert digests(out) == digests(ten)


class _FullDiskConnection:
    """A DuckDB connection whose commit of the 3rd run fails as on a full disk, after which
    DuckDB has no transaction left to roll back (the masking error the issue saw)."""

    def __init__(self, con: Any) -> None:
        self._con = con
        self._runs = 0
        self._failed = False

    def execute(self, sql: str, *args: Any) -> Any:
        import duckdb

        if sql.startswith("INSERT INTO runs"):
            self._runs += 1
            if self._runs == 3:
                self._failed = True
                raise duckdb.IOException('IO Error: Could not write file "results.duckdb": No space left on device')
        if sql == "ROLLBACK" and self._failed:
            self._con.execute("ROLLBACK")
            raise duckdb.TransactionException("TransactionContext Error: cannot rollback - no transaction is active")
        return self._con.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def test_a_full_disk_in_the_database_is_one_line_naming_it(tmp_path: Path, ten: Path, monkeypatch, capsys) -> None:
    out = tmp_path / "fulldb"
    real = ResultStore._connect

    def connect(self: ResultStore, rebuild: bool) -> None:
        real(self, rebuild)
        self.con = _FullDiskConnection(self.con)

    monkeypatch.setattr(ResultStore, "_connect", connect)
    rc, _, err = cli(ens(out, *TEN), capsys)
    one_error(rc, err, "No space left on device")
    assert "cannot rollback" not in err
    monkeypatch.setattr(ResultStore, "_connect", real)
    rc, out_, err = cli(ens(out, *TEN, "--json"), capsys)
    assert rc == 0, err
    assert json.loads(out_)["computed_now"] == 7  # the third run's folder was kept and taken in
    assert digests(out) == digests(ten)


def test_a_full_disk_writing_the_manifest_is_one_line(tmp_path: Path, monkeypatch, capsys) -> None:
    def full(path: Path, text: str) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(store_mod, "_atomic_write_text", full)
    rc, _, err = cli(ens(tmp_path / "m", "--runs", "2"), capsys)
    one_error(rc, err, "No space left on device (ENOSPC)")


# ---------------------------------------------------------------- 7: seeds the store cannot hold
@pytest.mark.parametrize(("seed", "runs"), [(2**63, 1), (2**64 + 5, 1), (2**63 - 2, 3)])
def test_seeds_beyond_what_the_database_holds_are_refused_up_front(
    tmp_path: Path, seed: int, runs: int, capsys
) -> None:
    out = tmp_path / "seeds"
    rc, _, err = cli(ens(out, "--runs", str(runs), "--seed", str(seed)), capsys)
    one_error(rc, err, "--seed: seeds must be below 2^63")
    assert not out.exists()


def test_the_largest_seed_the_database_holds_is_stored(tmp_path: Path, capsys) -> None:
    out = tmp_path / "maxseed"
    rc, _, err = cli(ens(out, "--runs", "2", "--seed", str(2**63 - 2)), capsys)
    assert rc == 0, err
    assert stored_seeds(out) == [2**63 - 2, 2**63 - 1]


@pytest.mark.parametrize("cmd", ["run", "ensemble"])
def test_a_first_seed_beyond_2_63_is_refused_by_every_command(tmp_path: Path, cmd: str, capsys) -> None:
    out = tmp_path / "big"
    rc, _, err = cli([cmd, TINY, "--scale", "0.05", "--until", "2010-12", "--seed", str(2**63), "--out", str(out)], capsys)
    one_error(rc, err, "below 2^63")
    assert "seed" in err and not out.exists()


def test_the_simulation_refuses_a_seed_no_store_holds() -> None:
    from shatterbelt import Simulation, load_scenario
    from shatterbelt.errors import UsageError

    with pytest.raises(UsageError, match=r"seed: must be below 2\^63"):
        Simulation(load_scenario(TINY), scale=0.05, seed=2**63)
