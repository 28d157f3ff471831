import plotly.graph_objects as go
import pytest

from dashboard.figures.theme import FONT_FAMILY, fixed_margins, merged, quick_figure, styled


def test_merged_layouts_merge_sub_mappings_and_let_the_later_value_win():
    out = merged({"yaxis": {"range": [0, 1], "title": {"text": "y"}}, "height": 300},
                 {"yaxis": {"automargin": False, "range": [0, 2]}, "height": 360})
    assert out == {"yaxis": {"range": [0, 2], "title": {"text": "y"}, "automargin": False}, "height": 360}


def test_merged_does_not_change_its_inputs():
    first = {"xaxis": {"automargin": True}}
    merged(first, {"xaxis": {"automargin": False}})
    assert first == {"xaxis": {"automargin": True}}


@pytest.mark.parametrize(("labels", "expected"), [
    ([], {"margin": {"l": 70, "b": 50}, "xaxis": {"automargin": False}, "yaxis": {"automargin": False}}),
    (["x" * 14], {"margin": {"l": 70, "b": 50}, "xaxis": {"automargin": False}, "yaxis": {"automargin": False}}),
    (["x" * 15], {}),
    (["钢" * 8], {}),  # eight CJK characters are as wide as sixteen letters
])
def test_fixed_margins_only_for_short_labels(labels, expected):
    assert fixed_margins(labels) == expected


def test_a_quick_figure_equals_the_same_figure_built_call_by_call():
    bar = go.Bar(x=["a", "b"], y=[1, 2])
    slow = styled(go.Figure(data=[bar]), "Title")
    slow.update_layout(height=360)
    slow.update_yaxes(range=[0, 3])
    quick = quick_figure([bar], "Title", {"height": 360, "yaxis": {"range": [0, 3]}})
    assert quick.to_dict() == slow.to_dict()
    assert quick.layout.template.layout.font.family == FONT_FAMILY
