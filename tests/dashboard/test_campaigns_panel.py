"""The campaigns panel under the Care page: marketing plans and records a randomised campaign, everyone reads what
the recorded campaigns measured and how they update the response model; a viewer cannot record."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from dashboard import access
from tests.dashboard.conftest import app_as, open_page
from vipmodel import db, features, kpi, schema
from vipmodel.auth import Actor
from vipmodel.campaigns import list_campaigns, load_campaign, plan_campaign, record_campaign
from vipmodel.outcomes import add_years
from vipmodel.pyramid import DEFAULT_RULES, assign_tiers


def _metric(at, label: str) -> str:
    return next(m for m in at.metric if m.label == label).value


def _past_campaign(url: str) -> str:
    """Record a campaign one year before the demo's end (the later purchases exist), as marketing; its id."""
    engine = db.make_engine(url)
    with engine.connect() as conn:
        end = kpi.latest_activity_date(conn)
        start = add_years(end, -1) + dt.timedelta(days=1)
        feats = features.member_features(conn, add_years(start, -1), start - dt.timedelta(days=1))
    active = feats[feats["n_transactions"] > 0].reset_index(drop=True)
    active["tier"] = assign_tiers(active, DEFAULT_RULES).astype(str).to_numpy()
    plan = {"A": ["birthday_gift"], "B": ["birthday_gift"], "C": ["holiday_card"], "D": ["sms"]}
    campaign = plan_campaign(active[["member_id", "tier"]], 0.3, 11, plan, start, campaign_id="spring-test")
    record_campaign(engine, campaign, Actor("wang.fang", "marketing"))
    engine.dispose()
    return campaign.campaign_id


def test_marketing_plans_a_campaign_sees_its_groups_and_cost_and_records_it(mall):
    at = open_page(app_as("marketing", "wang.fang"), "care")
    assert not at.exception
    assert "Retention campaigns: the closed loop" in [h.value for h in at.header]
    members = int(_metric(at, "Members").replace(",", ""))
    treated, holdout = (int(_metric(at, k).replace(",", "")) for k in ("Treated", "Held out"))
    assert members > 0 and treated + holdout == members
    assert holdout == pytest.approx(0.3 * members, abs=4)  # round(0.3 x n) within each of up to four tiers
    at.slider(key="cmp_holdout").set_value(0.5).run()
    assert int(_metric(at, "Held out").replace(",", "")) == pytest.approx(0.5 * members, abs=4)
    assert any("recorded as wang.fang" in c.value for c in at.caption)
    at.text_input(key="cmp_note").input("win back before the holidays")
    next(b for b in at.button if str(b.key).startswith("FormSubmitter:cmp_record")).click().run()
    assert not at.exception and not at.error
    assert any("recorded:" in s.value for s in at.success)
    engine = db.make_engine(mall)
    stored = list_campaigns(engine)
    assert len(stored) == 1 and stored.iloc[0]["author"] == "wang.fang"
    assert (stored.iloc[0]["n_treated"], stored.iloc[0]["n_holdout"]) == (members - holdout_after(at), holdout_after(at))
    campaign = load_campaign(engine, stored.iloc[0]["campaign_id"])
    with engine.connect() as conn:
        ca = schema.care_actions
        written = conn.execute(select(ca.c.member_id).where(ca.c.campaign_id == campaign.campaign_id)).scalars()
        assert set(written) == set(campaign.treated)
    engine.dispose()
    # Its year lies after the data: the list says when it can be measured.
    assert "measurable once the data reaches" in _table_text(at)


def holdout_after(at) -> int:
    return int(_metric(at, "Held out").replace(",", ""))


def _table_text(at) -> str:
    """Every cell of every table on the page, as one text."""
    return " ".join(str(v) for frame in at.dataframe for v in frame.value.astype(str).to_numpy().ravel())


def test_a_viewer_reads_the_measured_uplift_and_the_model_update_but_cannot_record(mall):
    campaign_id = _past_campaign(mall)
    at = open_page(app_as("viewer", "ceo"), "care")
    assert not at.exception
    assert any("may read the campaign results but not plan or record" in c.value for c in at.caption)
    assert not [b for b in at.button if str(b.key).startswith("FormSubmitter:cmp_record")]
    assert not [m for m in at.metric if m.label == "Held out"]  # no member-level plan for a viewer
    texts = _table_text(at)
    assert campaign_id in texts and "measured" in texts
    sentence = next(m.value for m in at.markdown if m.value.startswith("History says β = "))
    assert "of the weight on the randomised campaigns" in sentence
    assert any("confounding allowance" in c.value for c in at.caption)
    pooling = at.dataframe[-1].value
    assert pooling.iloc[:, 0].tolist()[-1] == "Pooled" and pooling.iloc[:-1, -1].sum() == pytest.approx(1.0)


def test_the_panel_speaks_chinese_and_a_marketing_user_sees_the_result_of_a_past_campaign(mall):
    _past_campaign(mall)
    app = app_as("marketing", "wang.fang")
    app.query_params["lang"] = "zh"
    at = open_page(app, "care")
    assert not at.exception
    assert "挽留活动：闭环验证" in [h.value for h in at.header]
    assert {"会员数", "干预组", "对照组", "关怀成本"} <= {m.label for m in at.metric}
    assert any(m.value.startswith("历史数据：β = ") for m in at.markdown)
    assert access.ACTOR_KEY in at.session_state


def test_every_visitor_reads_one_plan_per_set_of_inputs_and_a_new_holdout_share_draws_another(mall, monkeypatch):
    from vipmodel import campaigns

    drawn = []
    real = campaigns.plan_campaign
    monkeypatch.setattr(campaigns, "plan_campaign", lambda *a, **k: drawn.append(a[1]) or real(*a, **k))
    first = open_page(app_as("marketing", "wang.fang"), "care")
    second = open_page(app_as("marketing", "li.na"), "care")  # another session: the plan is not drawn again
    assert not first.exception and not second.exception
    assert drawn == [0.3] and _metric(first, "Held out") == _metric(second, "Held out")
    second.slider(key="cmp_holdout").set_value(0.5).run()
    assert drawn == [0.3, 0.5] and holdout_after(second) > int(_metric(first, "Held out").replace(",", ""))
