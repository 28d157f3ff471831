"""The migration Sankey: labels beside the nodes, never on the flows; shares per column; any weighting."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.figures.migration import sankey
from dashboard.report.figures import flow_links, flow_nodes

STATES = ["A", "B", "C", "D", "new", "A", "B", "C", "D", "lost"]
LABELS = ["A Platinum", "B Gold", "C Iron", "D Lead", "New", "A Platinum", "B Gold", "C Iron", "D Lead", "Lost"]


def _links(values: dict[tuple[int, int], float]) -> pd.DataFrame:
    return pd.DataFrame({"source": [s for s, _ in values], "target": [t for _, t in values],
                         "value": list(values.values()), "source_state": [STATES[s] for s, _ in values]})


WEIGHTED = _links({(0, 5): 900.0, (1, 6): 600.0, (1, 9): 100.0, (2, 7): 300.0, (3, 8): 80.0, (3, 9): 20.0,
                   (4, 8): 50.0})


def _figure(links: pd.DataFrame = WEIGHTED):
    return sankey(links, flow_nodes(), LABELS, "Flows", ("2025", "2026"), "¥,.0f", "Members")


def test_node_labels_sit_outside_the_flows_left_and_right():
    fig = _figure()
    assert set(fig.data[0].node.label) == {""}  # none drawn on the node (inside the flows)
    labels = [a for a in fig.layout.annotations if "·" in a.text]
    assert len(labels) == 10
    left = [a for a in labels if a.x < 0]
    right = [a for a in labels if a.x > 1]
    assert len(left) == 5 and len(right) == 5
    assert all(a.xanchor == "right" for a in left) and all(a.xanchor == "left" for a in right)
    assert fig.layout.margin.l > 0 and fig.layout.margin.r > 0


def test_each_label_gives_its_share_of_the_column():
    fig = _figure()
    shares = {a.text.split(" · ")[0] + ("<" if a.x < 0 else ">"): a.text.split(" · ")[1] for a in fig.layout.annotations
              if "·" in a.text}
    # Left column total 2050: A 900 -> 44%; right column: A 900, lost 120 -> 6%.
    assert shares["A Platinum<"] == "44%" and shares["Lost>"] == "6%"


def test_nodes_are_stacked_in_tier_order_without_overlap():
    node = _figure().data[0].node
    for side in (slice(0, 5), slice(5, 10)):
        centres = list(node.y[side])
        assert centres == sorted(centres) and all(0 < c < 1 for c in centres)


@pytest.mark.parametrize("weight", ["members", "value"])
def test_weekly_flows_become_links_of_the_chosen_weight(weight):
    flows = pd.DataFrame({
        "from_state": ["A", "A", "B", "new", "D"], "to_state": ["A", "B", "lost", "C", "D"],
        "members": [10, 2, 0, 3, 50], "value": [9000.0, 400.0, 0.0, 120.0, 500.0],
    })
    links = flow_links(flows, weight)
    kept = flows[flows[weight] > 0]
    assert links["value"].tolist() == kept[weight].round().tolist()
    assert links["members"].tolist() == kept["members"].tolist()
    assert links["source"].tolist() == [0, 0, 4, 3] and links["target"].tolist() == [5, 6, 7, 8]
