"""The pack's words: highlight sentences come only from Highlight.values, zero changes read as no change."""

from __future__ import annotations

import math
import re

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.i18n import t
from dashboard.kpi_text import kpi_change, shows_zero
from dashboard.report.content import SECTIONS, build_content, section_sentences, sentence
from vipmodel.weekly import HIGHLIGHT_KEYS, Highlight


@pytest.mark.parametrize(("text", "zero"), [
    ("-0.0", True), ("+0.0 pp", True), ("-¥0", True), ("0", True), ("-0.1", False), ("+¥1,200", False),
    ("", False), (None, False),
])
def test_a_change_shows_zero_only_when_every_digit_is_zero(text, zero):
    assert shows_zero(text) is zero


@pytest.mark.parametrize(("kpi", "change", "shown"), [
    ("satisfaction_index", -0.01, "0.0"),
    ("churn_rate", -0.0004, "0.0 pp"),
    ("churn_rate", 0.012, "+1.2 pp"),
    ("sales_week", -1234.4, "-¥1,234"),
    ("complaints_week", 0.0, "0"),
    ("churn_rate", float("nan"), None),
])
def test_kpi_changes_are_signed_unless_they_round_to_zero(kpi, change, shown):
    assert kpi_change(kpi, change, "en") == shown


CASES = [
    (Highlight("kpi_change", "kpis", {"kpi": "sales_week", "value": 182035.0, "previous_week": 193578.0,
                                      "week_change": -11543.0}, 0.06),
     "Sales this week fell to ¥182,035 (-¥11,543 on last week's ¥193,578)."),
    (Highlight("tier_down", "tiers", {"tier": "B", "members": 53, "value": 338247.7, "with_open_complaint": 3}, 0.05),
     "53 B Gold members moved down or left the pyramid, taking ¥338,248 of lifetime value (open complaints among "
     "them: 3)."),
    (Highlight("tier_down", "tiers", {"tier": "A", "members": 4, "value": math.nan, "with_open_complaint": 0}, 0.04),
     "4 A Platinum members moved down or left the pyramid (open complaints among them: 0)."),
    (Highlight("new_platinum", "new_platinum", {"tier": "A", "members": 8, "value": 196639.0}, 0.03),
     "8 members rose into A Platinum, worth ¥196,639 of lifetime value."),
    (Highlight("value_at_risk", "at_risk", {"value_at_risk": 9803635.0, "top_members": 20, "top_value": 753074.0}, 0.2),
     "¥9,803,635 of future value is at risk of churn; the top 20 members alone hold ¥753,074."),
    (Highlight("complaints_change", "complaints", {"measure": "resolved", "value": 53, "previous_week": 45,
                                                   "change": 8}, 0.18),
     "Resolved complaints: 53, up 8 on last week (45)."),
    (Highlight("satisfaction_change", "satisfaction", {"dimension": "sales_service", "score": 61.88,
                                                       "previous": 61.96, "change": -0.08}, 0.001),
     "Satisfaction with Sales service fell to 61.9 (-0.08)."),
    (Highlight("care_vs_plan", "care", {"tier": "C", "spend": 1280.0, "plan": 900.0, "difference": 380.0}, 0.4),
     "Care spend on C Iron was ¥1,280, ¥380 above plan (¥900)."),
]


def test_every_highlight_key_has_a_sentence():
    assert {h.key for h, _ in CASES} == set(HIGHLIGHT_KEYS)


@pytest.mark.parametrize(("highlight", "expected"), CASES, ids=[h.key for h, _ in CASES])
def test_a_sentence_is_filled_from_its_highlight_values(highlight, expected):
    assert sentence(highlight, "en") == expected
    chinese = sentence(highlight, "zh")
    assert "{" not in chinese and re.search(r"[\u4e00-\u9fff]", chinese)
    # The same numbers, written the Chinese way (万 for ten thousands): the counts at least appear as they are.
    counts = [v for k, v in highlight.values.items() if k in ("members", "top_members") and v]
    assert all(str(v) in chinese for v in counts)


def test_a_section_without_a_highlight_says_so_and_one_with_takes_the_biggest_first():
    ranked = tuple(sorted((h for h, _ in CASES), key=lambda h: -h.size))
    assert section_sentences((), "care", "en") == (t("report.no_highlight", "en"),)
    migration = section_sentences(ranked, "migration", "en")
    assert len(migration) == 2 and migration[0].startswith("53 B Gold")


def test_the_content_has_every_section_and_kpi_in_both_languages(week_summary):
    for lang in ("en", "zh"):
        content = build_content(week_summary, lang, "viewer")
        assert [s.key for s in content.sections] == list(SECTIONS)
        assert len(content.kpis) == len(week_summary.kpis)
        assert all(s.sentences and s.note for s in content.sections)
    assert content.file_name("pptx") == f"vip-weekly-{week_summary.week}-zh.pptx"


def test_an_unknown_role_is_refused_before_anything_is_drawn(week_summary):
    with pytest.raises(ValueError, match="unknown role 'guest'"):
        build_content(week_summary, "en", "guest")


def _metrics_script():
    from dashboard import ui

    ui.metric("Index", "65.6", "-0.0")
    ui.metric("Sales", "¥100", "-¥5")
    ui.metric("Churn", "25.9%", "+0.1 pp", inverse=True)


def test_a_kpi_delta_of_zero_is_neutral_without_arrow_or_sign():
    at = AppTest.from_function(_metrics_script, default_timeout=30).run()
    assert not at.exception
    zero, down, up = (m.proto for m in at.metric)
    assert zero.delta == "0.0" and zero.color == 2 and zero.direction == 2  # grey, no arrow
    assert down.delta == "-¥5" and down.color == 0 and down.direction == 0  # red, down
    assert up.delta == "+0.1 pp" and up.color == 0 and up.direction == 1  # a rise that is bad news: red, up
