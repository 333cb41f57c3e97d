"""Scenario authoring: `shatterbelt new` writes a template that validates and runs end to end
(politics included); `shatterbelt schema` prints a JSON Schema that files validate against."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from shatterbelt.cli.main import main

ROOT = Path(__file__).resolve().parents[1]


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def test_new_then_run_works_from_scratch(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rc, out, err = _cli(capsys, "new", "testland", "--regions", "3")
    assert rc == 0, err
    text = (tmp_path / "testland.yaml").read_text()
    assert text.count("\n#") > 10 and "source: assumption" in text  # commented, every number marked
    rc, out, err = _cli(capsys, "validate", "testland.yaml", "--json")
    assert rc == 0 and json.loads(out)["regions"] == 3
    rc, out, err = _cli(capsys, "run", "testland.yaml", "--json", "--quiet", "--no-report")
    assert rc == 0, err
    s = json.loads(out)["summary"]
    assert s["complete"] and s["scenario"] == "testland"
    assert s["pm_by_term"], "the politics layer formed a government"
    assert set(s["final_control"]) == {"Region 1", "Region 2", "Region 3"}
    assert s["regions"] == {"R1": "Region 1", "R2": "Region 2", "R3": "Region 3"}
    assert all(c["region"] == s["regions"][c["region_code"]] for c in s["army_collapses"] + s["control_changes"])
    run_dir = Path(json.loads(out)["outputs"]["summary.json"]).parent
    assert run_dir == Path("out/testland-seed0") and (tmp_path / run_dir / "metrics.csv").is_file()


def test_new_with_more_communities_and_regions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "x.yaml"
    rc, out, err = _cli(capsys, "new", "bigland", "--regions", "7", "--communities", "north,south,east_folk",
                        "--out", str(f), "--json")
    assert rc == 0, err
    assert json.loads(out)["regions"] == 7
    rc, out, err = _cli(capsys, "run", str(f), "--until", "2020-09", "--json", "--quiet", "--no-report",
                        "--out", str(tmp_path / "r"))
    assert rc == 0, err
    assert set(json.loads(out)["summary"]["legitimacy_final"]) == {"north", "south", "east_folk"}


@pytest.mark.parametrize("args,needle", [
    (["new", "t", "--communities", "a"], "--communities: give at least two"),
    (["new", "t", "--regions", "0"], "--regions: must be between"),
    (["new", "9lives"], "NAME: '9lives' is not a valid scenario name"),
    (["new", "t", "--communities", "a,a"], "--communities: an id is given twice"),
    (["new", "t", "--communities", "army,b"], "--communities: 'army'"),
])
def test_new_bad_input_is_one_line(args: list[str], needle: str, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = _cli(capsys, *args, "--out", str(tmp_path / "t.yaml"))
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc == 2 and len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], err
    assert not (tmp_path / "t.yaml").exists()


def test_new_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "t.yaml"
    f.write_text("mine\n")
    rc, _, err = _cli(capsys, "new", "t", "--out", str(f))
    assert rc == 2 and "exists" in err and f.read_text() == "mine\n"
    assert _cli(capsys, "new", "t", "--out", str(f), "--force")[0] == 0


def test_schema_is_a_json_schema_that_scenario_files_meet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    rc, out, _ = _cli(capsys, "schema")
    assert rc == 0
    schema = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(schema)
    v = jsonschema.Draft202012Validator(schema)
    assert schema["properties"]["regions"]["type"] == "array"
    assert "description" in schema["$defs"]["Region"]["properties"]["population"]
    assert _cli(capsys, "new", "schemaland", "--out", str(tmp_path / "s.yaml"))[0] == 0
    for f in (tmp_path / "s.yaml", ROOT / "src/shatterbelt/scenario/builtin/iraq-2010.yaml", ROOT / "tests/data/tiny.yaml"):
        doc = json.loads(json.dumps(yaml.safe_load(f.read_text()), default=str))
        errors = list(v.iter_errors(doc))
        assert not errors, (f.name, errors[0].message[:200])
    # a wrong file is caught by the schema as by the loader
    bad = json.loads(json.dumps(yaml.safe_load((tmp_path / "s.yaml").read_text()), default=str))
    bad["regions"][0]["population"] = "many"
    assert list(v.iter_errors(bad))
    rc, out, _ = _cli(capsys, "schema", "--out", str(tmp_path / "schema.json"), "--json")
    assert rc == 0 and json.loads((tmp_path / "schema.json").read_text()) == schema
    assert os.path.basename(json.loads(out)["path"]) == "schema.json"
