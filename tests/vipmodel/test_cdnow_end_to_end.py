"""CDNOW end to end: import the raw transaction file, summarise in SQL, fit, land on the published estimates.

Published values (the only hard-coded results) are those of Fader, Hardie & Lee (2005a, 2005b) as listed in
the shared CDNOW SOURCE.md (published estimates): BG/NBD r = 0.243, alpha = 4.414, a = 0.793, b = 2.426; Gamma-Gamma
p = 6.25, q = 3.74, gamma = 15.44 (946 repeat buyers).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from vipmodel import importer
from vipmodel.auth import SYSTEM
from vipmodel.clv import BetaGeoModel, GammaGammaModel, holdout_fit_table
from vipmodel.features import calibration_summary

CDNOW = Path(__file__).resolve().parent.parent / "data" / "cdnow" / "CDNOW_sample.txt"
BGNBD_PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GG_PUBLISHED = {"p": 6.25, "q": 3.74, "gamma": 15.44}
CALIBRATION_END = dt.date(1997, 9, 30)
HOLDOUT_END = dt.date(1998, 6, 30)
HOLDOUT_WEEKS = 39  # 1997-10-01 .. 1998-06-30 is 273 days


def sig3(value: float) -> float:
    return float(f"{value:.3g}")


@pytest.fixture
def cdnow_summary(engine):
    report = importer.import_file(
        CDNOW, "transactions", engine, columns=["member_id", "_", "ts", "quantity", "amount"], create_members=True, actor=SYSTEM
    )
    assert report.rows_rejected == 0
    with engine.connect() as conn:
        return calibration_summary(conn, calibration_end=CALIBRATION_END, holdout_end=HOLDOUT_END)


def test_cdnow_imported_and_summarised_in_sql_lands_on_the_published_estimates(cdnow_summary):
    assert len(cdnow_summary) == 2357  # every customer's first purchase is in the first quarter of 1997
    assert (HOLDOUT_END - CALIBRATION_END).days == HOLDOUT_WEEKS * 7
    bgnbd = BetaGeoModel().fit(cdnow_summary)
    for name, published in BGNBD_PUBLISHED.items():
        assert sig3(bgnbd.params_[name]) == pytest.approx(sig3(published), rel=1e-9), name
    gg = GammaGammaModel().fit(cdnow_summary)
    assert gg.n_customers_ == 946
    for name, published in GG_PUBLISHED.items():
        assert sig3(gg.params_[name]) == pytest.approx(sig3(published), rel=1e-9), name

    # The conditional-expectation table of FHL 2005a (fig. 4): predicted and actual holdout purchases by
    # number of calibration repeat purchases agree within 3 standard errors of the bucket's mean (at least 0.4).
    table = holdout_fit_table(bgnbd, cdnow_summary, HOLDOUT_WEEKS, max_purchases=7)
    assert list(table["frequency"]) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert table["customers"].sum() == len(cdnow_summary)
    bucket = np.minimum(cdnow_summary["frequency"], 7)
    sem = cdnow_summary.groupby(bucket)["holdout_purchases"].sem().to_numpy()
    assert (table["difference"].abs().to_numpy() <= np.maximum(3 * sem, 0.4)).all(), table
    assert table["predicted"].is_monotonic_increasing and table["actual"].is_monotonic_increasing
