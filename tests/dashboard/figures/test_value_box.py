"""The lifetime-value box plot on a projector: the log axis starts at ¥1, tier names are never cut off."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard.figures.value import clv_box_figure, wrap_label
from vipmodel.value_summary import CLV_FLOOR, clv_boxes


def _members(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    valued = pd.DataFrame({"tier": rng.choice(list("ABCD"), 2_000), "model_clv": rng.lognormal(6, 2, 2_000)})
    dormant = pd.DataFrame({"tier": "inactive", "model_clv": rng.uniform(1e-9, 1e-6, 500)})  # no purchase expected
    return pd.concat([valued, dormant], ignore_index=True)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_members_below_the_floor_are_counted_not_drawn(seed):
    frame = _members(seed)
    boxes = clv_boxes(frame, ["A", "B", "C", "D", "inactive"], log=True)
    assert boxes["non_positive"] == int((frame["model_clv"] < CLV_FLOOR).sum())
    assert "inactive" not in boxes["boxes"]  # every dormant member is below ¥1
    assert min(b["lowerfence"] for b in boxes["boxes"].values()) >= CLV_FLOOR


def test_the_log_axis_never_runs_below_the_floor():
    boxes = clv_boxes(_members(4), ["A", "B", "C", "D", "inactive"], log=True)
    fig = clv_box_figure(boxes, {"A": "A Platinum", "B": "B Gold", "C": "C Iron", "D": "D Lead"}, "t", "y")
    assert fig.layout.yaxis.type == "log"
    assert fig.layout.yaxis.autorangeoptions.minallowed == pytest.approx(np.log10(CLV_FLOOR))
    assert fig.layout.xaxis.automargin is True and fig.layout.xaxis.tickangle == 0


@pytest.mark.parametrize("label", ["No purchase in 12 months", "近12个月未消费", "A Platinum", "D 重铅层"])
def test_long_tier_names_wrap_onto_lines_and_keep_every_character(label):
    wrapped = wrap_label(label)
    assert wrapped.replace("<br>", " " if " " in label else "") == label
    assert all(sum(2 if ord(c) >= 0x2E80 else 1 for c in line) <= 14 for line in wrapped.split("<br>"))


def test_a_box_keeps_the_full_tier_name_for_its_legend_and_hover():
    boxes = clv_boxes(_members(5), ["A", "inactive"], log=False)
    fig = clv_box_figure(boxes, {"A": "A Platinum", "inactive": "No purchase in 12 months"}, "t", "y")
    assert [trace.name for trace in fig.data if trace.type == "box"] == ["A Platinum", "No purchase in 12 months"]
    (inactive,) = [trace for trace in fig.data if trace.type == "box" and trace.name.startswith("No purchase")]
    assert list(inactive.x) == ["No purchase<br>in 12 months"]  # the axis shows it wrapped, never cut off
