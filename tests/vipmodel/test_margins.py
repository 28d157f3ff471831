"""Margin rates for sales exported without a margin: applied only there, versioned, and stated in the coverage."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import CheckConstraint, MetaData, insert, inspect, select

from vipmodel import db, schema
from vipmodel.auth import SYSTEM, Actor
from vipmodel.features import member_features
from vipmodel.margins import (
    DEFAULT_RATE,
    DEFAULT_RATES,
    MarginRates,
    current_margin_rates,
    margin_coverage,
    save_margin_rates,
)
from vipmodel.settings import latest_setting

YEAR = (dt.date(1997, 1, 1), dt.date(1997, 12, 31))


def _sale(txn: str, member: str, amount: float, margin: float | None = None, store: str | None = None,
          category: str | None = None, is_return: bool = False, day: int = 10) -> dict:
    return {"txn_id": txn, "member_id": member, "ts": dt.datetime(1997, 3, day), "amount": amount,
            "gross_margin": margin, "store": store, "category": category, "discount": 0.0, "is_return": is_return}


@pytest.fixture
def mall(engine):
    """Four members of 1997: one with exported margins, three without (different stores and categories)."""
    with engine.begin() as conn:
        conn.execute(insert(schema.members), [
            {"member_id": m, "join_date": dt.date(1996, 5, 1), "gender": "U"}
            for m in ("given", "plain", "east", "shoe")
        ])
        conn.execute(insert(schema.transactions), [
            _sale("t1", "given", 200.0, margin=90.0, store="East", category="shoes"),
            _sale("t2", "plain", 100.0),
            _sale("t3", "east", 100.0, store="East", category="food"),
            _sale("t4", "shoe", 100.0, store="East", category="shoes"),
            _sale("t5", "plain", 40.0, is_return=True, day=20),
        ])
    return engine


def _margins(engine, rates: MarginRates | None = None) -> dict[str, float]:
    frame = member_features(engine, *YEAR, margin_rates=rates)
    return dict(zip(frame["member_id"], frame["gross_margin"]))


def test_a_missing_margin_is_estimated_from_the_default_rate_and_an_exported_one_is_kept(mall):
    margins = _margins(mall)
    assert margins["given"] == 90.0
    # 100 sold and 40 returned: the return gives its estimated margin back too
    assert margins["plain"] == pytest.approx(DEFAULT_RATE * (100 - 40))
    assert margins["east"] == margins["shoe"] == pytest.approx(DEFAULT_RATE * 100)


def test_a_category_rate_wins_over_a_store_rate_which_wins_over_the_default(mall):
    rates = MarginRates(0.1, by_store={"East": 0.3}, by_category={"shoes": 0.5})
    margins = _margins(mall, rates)
    assert margins == pytest.approx({"given": 90.0, "plain": 0.1 * 60, "east": 30.0, "shoe": 50.0})
    assert rates.rate_for("East", "shoes") == 0.5 and rates.rate_for("East", "food") == 0.3
    assert rates.rate_for(None, None) == 0.1


def test_saved_rates_are_versioned_used_by_default_and_bump_the_data_version(mall):
    assert current_margin_rates(mall) == (DEFAULT_RATES, None)
    with mall.connect() as conn:
        before = db.data_version(conn)
    saved = save_margin_rates(mall, MarginRates(0.35, by_store={"East": 0.4}), actor=Actor("Li Na", "marketing"),
                              note="finance 1997")
    assert saved.version == 1 and saved.kind == "margin_rates"
    save_margin_rates(mall, MarginRates(0.3), actor=Actor("Li Na", "marketing"))
    rates, version = current_margin_rates(mall)
    assert (rates, version) == (MarginRates(0.3), 2)
    with mall.connect() as conn:
        assert db.data_version(conn) == before + 2  # cached profits of the old rates are not served again
        assert latest_setting(conn, "margin_rates").author == "Li Na"
    assert _margins(mall)["plain"] == pytest.approx(0.3 * 60)


def test_coverage_says_what_share_of_sales_had_its_margin_estimated(mall):
    coverage = margin_coverage(mall, *YEAR)
    assert coverage.sales == 500.0 and coverage.estimated_sales == 300.0
    assert coverage.estimated_share == pytest.approx(0.6) and coverage.any_estimated
    assert coverage.version is None and coverage.rates == DEFAULT_RATES
    east = margin_coverage(mall, *YEAR, store="East")
    assert east.estimated_share == pytest.approx(200 / 400)
    empty = margin_coverage(mall, dt.date(1990, 1, 1), dt.date(1990, 12, 31))
    assert empty.sales == 0 and empty.estimated_share == 0 and not empty.any_estimated


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"default": 1.2}, r"default must be in \[0, 1\); got 1.2"),
        ({"default": -0.1}, r"default must be in \[0, 1\); got -0.1"),
        ({"default": "0.2"}, r"default must be a number in \[0, 1\); got '0.2'"),
        ({"default": True}, r"default must be a number"),
        ({"default": float("nan")}, r"default must be a number"),
        ({"by_store": {"East": 2}}, r"by_store\['East'\] must be in \[0, 1\); got 2"),
        ({"by_category": {"": 0.2}}, r"by_category has a blank or non-text name: ''"),
        ({"by_category": [0.2]}, r"by_category must map names to rates; got list"),
    ],
)
def test_rates_outside_zero_to_one_are_refused_with_a_message(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MarginRates(**kwargs)


def test_rates_survive_their_payload_and_unknown_keys_are_refused():
    rates = MarginRates(0.25, by_store={"West": 0.3}, by_category={"food": 0.12})
    assert MarginRates.from_payload(rates.to_payload()) == rates
    with pytest.raises(ValueError, match="unknown key"):
        MarginRates.from_payload({"default": 0.2, "per_brand": {}})
    with pytest.raises(ValueError, match="has no 'default'"):
        MarginRates.from_payload({})
    with pytest.raises(ValueError, match="rates must be a MarginRates, got dict"):
        save_margin_rates(None, {"default": 0.2}, actor=Actor("x", "marketing"))  # type: ignore[arg-type]


def _older_data_model() -> MetaData:
    """The data model before margins could be missing: gross_margin NOT NULL and three setting kinds."""
    old = MetaData()
    for table in schema.Base.metadata.sorted_tables:
        table.to_metadata(old)
    old.tables["transactions"].c.gross_margin.nullable = False
    settings = old.tables["settings"]
    settings.constraints = {c for c in settings.constraints if getattr(c, "name", None) != "ck_settings_kind"}
    settings.append_constraint(
        CheckConstraint("kind IN ('tier_rules', 'satisfaction_weights', 'care_plan')", name="ck_settings_kind")
    )
    return old


def test_a_database_made_by_the_older_data_model_is_upgraded_and_keeps_its_rows(db_url):
    engine = db.make_engine(db_url)
    _older_data_model().create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(schema.members).values(member_id="m1", join_date=dt.date(1997, 1, 1), gender="U"))
        conn.execute(insert(schema.transactions).values(**_sale("t1", "m1", 100.0, margin=0.0)))
    assert db.upgrade_schema(engine) == ["transactions", "settings"]
    assert db.upgrade_schema(engine) == []  # once
    db.create_schema(engine)
    columns = {c["name"]: c for c in inspect(engine).get_columns("transactions")}
    assert columns["gross_margin"]["nullable"]
    indexes = {ix["name"] for ix in inspect(engine).get_indexes("transactions")}
    assert "ix_transactions_member_ts" in indexes
    with engine.begin() as conn:
        assert conn.execute(select(schema.transactions.c.txn_id, schema.transactions.c.gross_margin)).all() == [
            ("t1", 0.0)
        ]
        conn.execute(insert(schema.transactions).values(**_sale("t2", "m1", 50.0)))
    save_margin_rates(engine, MarginRates(0.4), actor=Actor("admin", "marketing"))
    assert _margins(engine)["m1"] == pytest.approx(0.0 + 0.4 * 50)
    engine.dispose()


def test_an_export_with_margins_for_part_of_its_rows_gets_the_rate_only_where_the_margin_is_blank(engine, tmp_path):
    from vipmodel.importer import import_file

    export = tmp_path / "pos.csv"
    export.write_text(
        "member_id,date,amount,gross_margin\n"
        "P1,1997-04-01,100.00,45.00\n"
        "P1,1997-04-02,100.00,\n"
        "P2,1997-04-03,50.00,0\n"   # a margin of 0 given in the export is a real 0, not a missing one
        "P3,1997-04-04,80.00,\n",
        encoding="utf-8",
    )
    report = import_file(export, "transactions", engine, create_members=True, actor=SYSTEM)
    assert report.ok, report.format()
    with engine.connect() as conn:
        stored = conn.execute(select(schema.transactions.c.gross_margin).order_by(schema.transactions.c.ts)).scalars()
        assert list(stored) == [45.0, None, 0.0, None]
    margins = _margins(engine)
    assert margins == pytest.approx({"P1": 45.0 + DEFAULT_RATE * 100, "P2": 0.0, "P3": DEFAULT_RATE * 80})
    coverage = margin_coverage(engine, *YEAR)
    assert coverage.estimated_share == pytest.approx(180 / 330)
