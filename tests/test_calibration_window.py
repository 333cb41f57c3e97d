"""The default run is plausible in the calibration window (documented calibration, not hard-coding).

Iraq Body Count: 4,162 civilian deaths in 2011 and 4,622 in 2012 (outcomes_annual.csv).  The
model must land within a factor of two, judged on the median over seeds.
"""

from __future__ import annotations

import numpy as np

from tests.conftest import cached_run

IBC = {"2011": 4162, "2012": 4622}


def test_civilian_deaths_2011_2012_within_factor_two():
    runs = [cached_run("iraq-2010", 0.01, s, "2013-12") for s in (1, 2, 3, 4)] + [cached_run("iraq-2010", 0.01, 7)]
    for year, documented in IBC.items():
        med = float(np.median([r.summary["civilian_deaths_by_year"][year] for r in runs]))
        assert documented / 2 <= med <= documented * 2, (year, med)
