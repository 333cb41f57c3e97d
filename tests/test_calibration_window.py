"""The default run is plausible in the calibration window (documented calibration, not hard-coding).

Iraq Body Count: 4,162 civilian deaths in 2011 and 4,622 in 2012; UCDP: 638 battle deaths in 2012
(outcomes_annual.csv).  Judged on the median of 8 seeds (outcomes are bimodal: in some histories
the insurgency withers, in others it grows, so fewer seeds give an unstable median), the model
must land within a factor of 1.5 of IBC in 2011 and 2012 and within a factor of two of UCDP in 2012.
"""

from __future__ import annotations

import numpy as np

from tests.conftest import cached_run

IBC = {"2011": 4162, "2012": 4622}
UCDP_2012 = 638


def test_civilian_and_battle_deaths_2011_2012_in_the_calibration_window():
    runs = [cached_run("iraq-2010", 0.01, s, "2013-12") for s in range(1, 9)]
    for year, documented in IBC.items():
        med = float(np.median([r.summary["civilian_deaths_by_year"][year] for r in runs]))
        assert documented / 1.5 <= med <= documented * 1.5, (year, med)
    med = float(np.median([r.summary["battle_deaths_by_year"]["2012"] for r in runs]))
    assert UCDP_2012 / 2 <= med <= UCDP_2012 * 2, ("battle 2012", med)
