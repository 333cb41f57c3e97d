"""The ``election`` and ``formation`` commands: one JSON document, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from shatterbelt.cli.main import main
from shatterbelt.politics import read_politics


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_election_json(capsys) -> None:
    rc, out, err = _run(capsys, "election", "iraq-2010", "--json")
    assert rc == 0, err
    doc = json.loads(out)
    assert set(doc) == {"seats", "total", "documented"}
    assert doc["total"] == 325 == sum(doc["seats"].values())
    assert doc["documented"]["iraqiya"] == 91
    for k in ("iraqiya", "sol", "ina", "ka"):
        assert abs(doc["seats"][k] - doc["documented"][k]) <= 3


def test_election_text_and_rule(capsys) -> None:
    rc, out, _ = _run(capsys, "election", "iraq-2010", "--rule", "sainte_lague", "--first-divisor", "1.6")
    assert rc == 0 and "sainte_lague" in out and "governorates:" in out


def test_formation_json(capsys) -> None:
    rc, out, err = _run(capsys, "formation", "iraq-2010", "--runs", "20", "--seed", "1", "--json")
    assert rc == 0, err
    doc = json.loads(out)
    assert set(doc) == {"pm_share", "pm_bloc_share", "vacuum_days"}
    assert abs(sum(doc["pm_share"].values()) - 1) < 1e-6
    assert set(doc["vacuum_days"]) == {"p10", "p50", "p90"}
    rc2, out2, _ = _run(capsys, "formation", "iraq-2010", "--runs", "20", "--seed", "1", "--json")
    assert out2 == out  # deterministic per seed


def test_formation_text(capsys) -> None:
    rc, out, _ = _run(capsys, "formation", "iraq-2018", "--runs", "5")
    assert rc == 0 and "vacuum" in out


def test_one_line_errors(capsys, tmp_path: Path) -> None:
    rc, out, err = _run(capsys, "formation", "iraq-2010", "--runs", "0")
    assert rc == 2 and out == "" and err == "error: runs: must be >= 1\n"
    rc, _, err = _run(capsys, "election", "atlantis")
    assert rc == 2 and err.startswith("error: atlantis: no such politics configuration") and err.count("\n") == 1
    rc, _, err = _run(capsys, "election", "iraq-2010", "--rule", "borda")
    assert rc == 2 and "unknown electoral rule 'borda'" in err and err.count("\n") == 1
    rc, _, err = _run(capsys, "election", "iraq-2005")
    assert rc == 2 and "votes_file" in err and err.count("\n") == 1
    data, _ = read_politics("iraq-2010")
    data["blocs"][3]["seats"] = {"value": -5, "source": "typo"}
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"politics": data}))
    rc, _, err = _run(capsys, "formation", str(bad), "--runs", "2")
    assert rc == 2 and err == "error: politics.blocs[3].seats: -5 is outside the domain of a count (>= 0)\n"


def test_set_override(capsys) -> None:
    rc, out, _ = _run(capsys, "formation", "iraq-2010", "--runs", "10", "--json",
                      "--set", "formation.formateur_agenda_prob=0", "--set", "patrons.iran.leverage.sadrists=0")
    assert rc == 0 and json.loads(out)["pm_share"]
