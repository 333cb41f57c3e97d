"""The essay's claims on any scenario: arms from the arms index, checked against the scenario's data.

Lebanon's arms resolve into valid scenarios for every claim that can be posed there and the others
carry their reason; Iraq keeps the arms it always had; a claim a scenario cannot pose (Tinyland has no
politics section) comes out as one "not applicable" row, and a tiny claims run on lebanon-2005 works
end to end.
"""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

import pytest

from shatterbelt.experiments.claims import (
    CLAIMS,
    NOT_APPLICABLE,
    arms_for,
    read_arms_index,
    run_claims,
    scenarios_for,
)
from shatterbelt.resolve import load_raw, load_scenario
from shatterbelt.scenario.loader import builtin_variants
from shatterbelt.scenario.schema import ForeignTroops

pytestmark = pytest.mark.filterwarnings("ignore::shatterbelt.scenario.params.ParameterRangeWarning")

DATA = Path(__file__).parent / "data"
TINY = str(DATA / "tiny.yaml")


def test_lebanons_arms_resolve_and_validate_for_every_claim() -> None:
    arms = arms_for(list(CLAIMS), "lebanon-2005")
    assert set(arms) == {c.id for c in CLAIMS}
    posed = {cid for cid, a in arms.items() if not a.not_applicable}
    assert posed == {"C1", "C2", "C3", "C4", "C5", "C6", "C7"}
    for cid, a in arms.items():
        if a.not_applicable:
            assert a.world is None and a.counterfactual is None and len(a.not_applicable) > 40
            continue
        for label in (a.world, a.counterfactual):
            if label:
                sc = load_scenario(label)  # raises on an invalid arm
                assert sc.name.startswith("lebanon-2005")
        assert a.experiment.startswith("A: ") or cid == "C7"
    # C1's counterfactual keeps the Syrian army: the withdrawal event is gone, the baseline has it
    base = load_scenario(arms["C1"].world or "")
    stays = load_scenario(arms["C1"].counterfactual or "")

    def syrian(sc):  # noqa: ANN001, ANN202
        return [e for e in sc.timeline if isinstance(e, ForeignTroops) and e.force == "syrian_army"]

    assert [e.level for e in syrian(base)] == [0] and syrian(stays) == []
    # no patron money in C5's counterfactual, none of Iraq's bloc or patron ids anywhere in Lebanon's arms
    no_pat = load_scenario(arms["C5"].counterfactual or "")
    assert {p.id for p in no_pat.patrons} == {p.id for p in base.patrons}
    assert all(p.budget.value == 0 for p in no_pat.patrons)
    # C2: the same 2009 government in both arms, imposed on its date (A) or a month after the election (B)
    gov_a, gov_b = (
        [e for e in load_scenario(label).timeline if e.type == "government"]
        for label in (arms["C2"].world or "", arms["C2"].counterfactual or "")
    )
    assert [str(e.date) for e in gov_a] == ["2009-11-09"] and [str(e.date) for e in gov_b] == ["2009-07-07"]
    assert gov_a[0].coalition == gov_b[0].coalition and gov_a[0].portfolio_shares == gov_b[0].portfolio_shares
    tech = load_scenario(arms["C4"].counterfactual or "")
    assert all(b.armed_wing_share is None or b.armed_wing_share.value == 0 for b in tech.blocs)


def test_iraq_keeps_its_arms() -> None:
    arms = arms_for(list(CLAIMS), "iraq-2010")
    assert not any(a.not_applicable for a in arms.values())
    for c in CLAIMS:  # the variants the claims always used on iraq-2010, and their design notes
        want_w = "iraq-2010" if not c.world else f"iraq-2010+{c.world}"
        want_cf = None if c.counterfactual is None else f"iraq-2010+{c.counterfactual}"
        assert (arms[c.id].world, arms[c.id].counterfactual) == (want_w, want_cf)
        assert arms[c.id].experiment == c.design_note
    assert scenarios_for(list(CLAIMS), "iraq-2010", arms) == scenarios_for(list(CLAIMS), "iraq-2010")


def test_every_variant_the_index_names_exists() -> None:
    known = set(builtin_variants())
    for name, entry in read_arms_index().items():
        for cid, spec in entry.items():
            assert cid in {c.id for c in CLAIMS}, (name, cid)
            assert spec.get("not_applicable") or spec.get("counterfactual") in known, (name, cid)
            assert not spec.get("world") or spec["world"] in known


def test_a_claim_needs_what_the_scenario_lacks() -> None:
    raw, _ = load_raw(TINY)
    arms = arms_for(list(CLAIMS), TINY, raw)
    assert "no politics section" in arms["C2"].not_applicable
    assert "no politics section" in arms["C4"].not_applicable
    assert "no arms are named for scenario 'tiny'" in arms["C5"].not_applicable
    assert not arms["C3"].not_applicable and arms["C3"].counterfactual == f"{TINY}+unified-army"  # generic arm
    assert not arms["C7"].not_applicable
    # without the foreign force's drawdown there is no withdrawal to undo
    kept = copy.deepcopy(raw)
    kept["timeline"] = [e for e in kept["timeline"] if e.get("type") != "foreign_troops"]
    assert "leaves or shrinks" in arms_for(list(CLAIMS), TINY, kept)["C1"].not_applicable
    # an army nobody infiltrates cannot be unified further
    kept["army"]["infiltration"] = {"value": 0, "range": [0, 1], "source": "assumption"}
    assert "not infiltrated" in arms_for(list(CLAIMS), TINY, kept)["C3"].not_applicable
    kept["patrons"] = []
    assert "no foreign patron" in arms_for(list(CLAIMS), TINY, kept)["C5"].not_applicable


def test_a_not_applicable_claim_on_tiny_is_one_row(tmp_path: Path) -> None:
    out = tmp_path / "claims"
    results = run_claims(2, out, claim_ids=["C2", "C7"], replicates=1, base=TINY, scale=0.05, workers=1,
                         progress=False, panel="none")
    by = {r.claim.id: r for r in results}
    assert by["C2"].verdict == NOT_APPLICABLE and "no politics section" in by["C2"].not_applicable
    assert by["C7"].verdict != NOT_APPLICABLE and by["C7"].metrics[0].n == 2
    with open(out / "claims.csv", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["claim"] == "C2"]
    assert len(rows) == 1 and rows[0]["verdict"] == NOT_APPLICABLE and "politics" in rows[0]["reason"]
    doc = json.loads((out / "claims.json").read_text(encoding="utf-8"))
    c2 = next(c for c in doc["claims"] if c["claim"] == "C2")
    assert c2["verdict"].startswith("not applicable: the scenario has no politics section")


def test_claims_run_end_to_end_on_lebanon(tmp_path: Path) -> None:
    out = tmp_path / "claims"
    results = run_claims(2, out, claim_ids=["C1", "C6", "C8"], replicates=1, base="lebanon-2005", scale=0.0005,
                         workers=1, progress=False, panel="none")
    by = {r.claim.id: r for r in results}
    assert by["C8"].verdict == NOT_APPLICABLE and "dictatorship" in by["C8"].not_applicable
    assert by["C1"].counterfactual == "lebanon-2005+syria-stays"
    assert all(m.n == 2 for m in by["C1"].metrics)  # posed: two pairs each
    c6 = {m.metric: m for m in by["C6"].metrics}
    # Lebanon has Iran among its patrons but neither Turkey nor Israel: those metrics are not applicable
    assert c6["patron_influence.iran.mean_from_2012"].n == 2
    assert c6["patron_influence.turkey.mean_from_2012"].verdict == NOT_APPLICABLE
    assert c6["patron_influence.israel.mean_from_2012"].verdict == NOT_APPLICABLE
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert "lebanon-2005+syria-stays" in json.dumps(manifest)
