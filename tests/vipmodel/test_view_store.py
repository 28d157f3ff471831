"""Stored results (vipmodel.view_store): one signed row per result, read by any server holding the secret."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import update

from vipmodel import view_store
from vipmodel.results_schema import stored_views
from vipmodel.retention import RiskEvaluation

SECRET = b"a secret of the servers, long enough"


@pytest.fixture
def store(engine):
    """A database of each backend with the schema created."""
    return engine


def _result() -> dict:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"member_id": np.arange(1000), "value": rng.gamma(2.0, 50.0, 1000),
                          "tier": pd.Categorical(rng.choice(list("ABCD"), 1000))})
    return {"frame": frame, "day": dt.date(2026, 10, 25), "numbers": (1, 2.5, None)}


def test_a_stored_result_reads_back_equal(store):
    key = view_store.key_for("loader", (dt.date(2026, 10, 25),), "1-abc.0")
    assert view_store.get(store, key, SECRET) == (False, None)
    size = view_store.put(store, key, "loader", _result(), "1-abc.0", SECRET)
    found, value = view_store.get(store, key, SECRET)
    assert found and size > 8000
    pd.testing.assert_frame_equal(value["frame"], _result()["frame"])
    assert value["day"] == dt.date(2026, 10, 25) and value["numbers"] == (1, 2.5, None)
    view_store.put(store, key, "loader", {"replaced": True}, "1-abc.0", SECRET)  # the same key again: replaced
    assert view_store.get(store, key, SECRET) == (True, {"replaced": True})
    assert view_store.listing(store)[["name", "data_version"]].values.tolist() == [["loader", "1-abc.0"]]


@pytest.mark.parametrize("slice_bytes", [1000, 4096, 10**9])
def test_a_large_result_is_read_back_in_slices_of_any_size(store, monkeypatch, slice_bytes):
    # PostgreSQL refuses to send a bytea over 512 MB in one piece (hex text, 1 GB at most): get() reads slices.
    monkeypatch.setattr(view_store, "READ_SLICE_BYTES", slice_bytes)
    key = view_store.key_for("loader", slice_bytes)
    size = view_store.put(store, key, "loader", _result(), "1-abc.0", SECRET)
    assert size > 3 * 4096  # several slices at the two small sizes
    found, value = view_store.get(store, key, SECRET)
    assert found
    pd.testing.assert_frame_equal(value["frame"], _result()["frame"])


def test_a_size_column_larger_than_the_payload_still_reads_the_payload_as_signed(store, monkeypatch):
    monkeypatch.setattr(view_store, "READ_SLICE_BYTES", 1000)  # slices past the payload's end come back empty
    key = view_store.key_for("loader", "size")
    view_store.put(store, key, "loader", _result(), "1-abc.0", SECRET)
    with store.begin() as conn:
        conn.execute(update(stored_views).values(size_bytes=stored_views.c.size_bytes + 2500))
    found, value = view_store.get(store, key, SECRET)
    assert found
    pd.testing.assert_frame_equal(value["frame"], _result()["frame"])


def test_the_package_s_frozen_dataclasses_are_stored_as_they_are(store):
    evaluation = RiskEvaluation.__new__(RiskEvaluation)  # any frozen dataclass of the package: a result a page shows
    key = view_store.key_for("evaluation")
    view_store.put(store, key, "evaluation", evaluation, "1-abc.0", SECRET)
    assert type(view_store.get(store, key, SECRET)[1]) is RiskEvaluation


@pytest.mark.parametrize("change", ["another secret", "altered payload", "moved to another key", "size too small"])
def test_a_row_that_does_not_verify_is_never_decoded(store, change, monkeypatch):
    key = view_store.key_for("loader", 1)
    view_store.put(store, key, "loader", _result(), "1-abc.0", SECRET)
    if change == "another secret":
        with pytest.raises(view_store.UntrustedResult, match="not signed with this server's secret"):
            view_store.get(store, key, b"another group's secret, long enough")
        return
    with store.begin() as conn:
        if change == "altered payload":  # someone who may write to the database but holds no secret
            import pickle

            conn.execute(update(stored_views).values(payload=pickle.dumps({"evil": True})))
        elif change == "size too small":  # the read stops at the size column: the payload read is cut short
            monkeypatch.setattr(view_store, "READ_SLICE_BYTES", 1000)
            conn.execute(update(stored_views).values(size_bytes=stored_views.c.size_bytes - 1500))
        else:
            other = view_store.key_for("loader", 2)
            conn.execute(update(stored_views).values(key=other))
            key = other
    with pytest.raises(view_store.UntrustedResult):
        view_store.get(store, key, SECRET)


def test_a_short_secret_is_refused(store):
    with pytest.raises(ValueError, match="at least 16 bytes, got 5"):
        view_store.put(store, view_store.key_for("x"), "x", 1, "1-abc.0", b"short")


def test_pruning_keeps_only_the_current_data_version(store):
    for version in ("1-old.0", "2-new.0", "2-new.1"):
        view_store.put(store, view_store.key_for(version), f"result of {version}", 1, version, SECRET)
    assert view_store.prune(store, "2-new.1") == 2
    assert view_store.listing(store)["name"].tolist() == ["result of 2-new.1"]


def test_pruning_with_the_keys_a_precompute_used_drops_the_rest_of_its_version(store):
    keys = [view_store.key_for("loader", n) for n in range(1200)]  # more than one statement's worth of parameters
    for key in keys:
        view_store.put(store, key, "loader", 1, "2-new.1", SECRET)
    kept = set(keys[::3])
    assert view_store.prune(store, "2-new.1", keep_keys=kept) == len(keys) - len(kept)
    assert len(view_store.listing(store)) == len(kept)
    assert all(view_store.get(store, key, SECRET)[0] for key in kept)


def test_a_database_without_the_table_has_nothing_stored(tmp_path):
    from vipmodel.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'older.db'}")  # made before results were stored: no table
    assert view_store.get(engine, view_store.key_for("x"), SECRET) == (False, None)
    assert view_store.listing(engine).empty and view_store.prune(engine, "1") == 0
    view_store.put(engine, view_store.key_for("x"), "x", 1, "1", SECRET)  # the first store creates it
    assert view_store.get(engine, view_store.key_for("x"), SECRET) == (True, 1)


def test_one_caller_claims_a_piece_of_work_until_it_releases_it_or_the_claim_goes_stale(store):
    key, hour = view_store.key_for("precompute running", "f"), dt.timedelta(hours=1)
    assert view_store.claim(store, key, "precompute running", "1-abc.0", SECRET, hour)
    assert not view_store.claim(store, key, "precompute running", "1-abc.0", SECRET, hour)  # another server
    assert isinstance(view_store.get(store, key, SECRET)[1], dt.datetime)  # since when
    view_store.release(store, key)
    assert view_store.claim(store, key, "precompute running", "1-abc.0", SECRET, hour)
    # Its holder stopped without releasing: after max_age another caller takes it over.
    assert view_store.claim(store, key, "precompute running", "1-abc.0", SECRET, dt.timedelta(0))
