"""Print the `regions:` and `adjacency:` blocks of the iraq-2010 scenario from the package data.

Kept so that the YAML's numbers can be regenerated and checked against the data
pack (tests/test_scenario_data.py compares them).  Run:
    python tools/iraq_regions.py > /tmp/regions.yaml
"""

from __future__ import annotations

import csv
from importlib import resources

COMMS = ("shia", "sunni", "kurd", "other")


def rng(text: str, point: float) -> tuple[float, float]:
    text = text.strip()
    if "-" in text:
        lo, hi = text.split("-")
        return float(lo) / 100, float(hi) / 100
    v = float(text) / 100 if text else point
    return v, v


def main() -> None:
    base = resources.files("shatterbelt.data") / "iraq"
    with (base / "governorates.csv").open() as f:
        rows = list(csv.DictReader(f))
    print("regions:")
    for r in rows:
        shares = {c: float(r[c]) / 100 for c in COMMS}
        print(f"  - id: {r['code']}")
        print(f"    name: {r['name']}")
        print(f"    population: {int(r['population_2010'])}")
        print(f"    population_source: \"COSIT 2010 projection ({r['population_source']})\"")
        print("    shares: {" + ", ".join(f"{c}: {shares[c]:.2f}" for c in COMMS) + "}")
        rr = {c: rng(r[f"{c}_range"], shares[c]) for c in COMMS}
        print("    shares_range: {" + ", ".join(f"{c}: [{lo:.2f}, {hi:.2f}]" for c, (lo, hi) in rr.items()) + "}")
        src = r["shares_source"].replace('"', "'")
        print(f"    shares_source: \"{src} ({r['shares_confidence']})\"")
        if r["status"] == "KRG":
            print("    autonomous: true")
        if r["status"] == "disputed-territories":
            print("    disputed: true")
        nb = [x.strip() for x in r["international_neighbours"].split(";") if x.strip()]
        if nb:
            print("    border: [" + ", ".join(nb) + "]")
    with (base / "adjacency.csv").open() as f:
        adj = [row for row in csv.DictReader(f) if row["recommended"] == "1"]
    print("adjacency:  # recommended pairs of adjacency.csv (UN OCHA / COSIT 2019 boundaries)")
    for a in adj:
        print(f"  - [{a['code_a']}, {a['code_b']}]")


if __name__ == "__main__":
    main()
