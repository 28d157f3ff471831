"""Personal data masked by role: names, phones and birthdays as a viewer, marketing and an administrator see them."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from vipmodel.auth import ROLES
from vipmodel.privacy import (
    KINDS,
    MASKED_DATE,
    PERSONAL_COLUMNS,
    VISIBILITY,
    mask_birthday,
    mask_name,
    mask_personal,
    mask_phone,
    mask_value,
    sees,
)


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("王小明", "王**"),
        ("李四", "李*"),
        ("欧阳娜娜", "欧***"),
        ("王", "*"),  # a one-character name would be all shown by its initial
        ("John Smith", "J*** S***"),
        ("Alexandra", "A***"),  # the length of a Latin name is not told
        ("  Mary   Ann  Lee ", "M*** A*** L***"),
        ("阿依古丽·买买提", "阿*** 买**"),
        ("J", "*"),
        ("=HYPERLINK(\"http://evil\",\"x\")", "=***"),
        (None, ""),
        (float("nan"), ""),
        (pd.NA, ""),
        ("", ""),
        ("   ", ""),
        (12345, "1***"),
    ],
)
def test_names_keep_the_initial_of_each_part(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize("name", ["王小明", "李四", "王", "John Smith", "阿依古丽·买买提", "Alexandra"])
def test_masking_a_masked_name_changes_nothing(name):
    once = mask_name(name)
    assert mask_name(once) == once


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138-1234-5678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("+86 138 1234 5678", "+86 138****5678"),
        ("0086-13812345678", "+86 138****5678"),
        ("8613812345678", "+86 138****5678"),
        ("010-12345678", "010****5678"),  # a Beijing landline keeps its area code
        ("(021) 6234-5678", "021****5678"),
        ("+1 415 555 2671", "141****2671"),
        ("62345678", "****5678"),  # a local number: only the last four
        ("1234567", "****4567"),
        ("12345", "****"),  # too short to show any of it
        ("n/a", "****"),
        (13812345678, "138****5678"),
        (13812345678.0, "138****5678"),  # read from a spreadsheet as a float
        (np.int64(13812345678), "138****5678"),
        (None, ""),
        (float("nan"), ""),
        ("", ""),
    ],
)
def test_phones_keep_their_first_three_and_last_four_digits(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize("phone", ["13812345678", "+86 138 1234 5678", "010-12345678", "62345678", "12345"])
def test_masking_a_masked_phone_changes_nothing(phone):
    once = mask_phone(phone)
    assert mask_phone(once) == once


def test_a_phone_with_stars_of_its_own_is_still_masked():
    assert mask_phone("138*1234*5678") == "138****5678"


@pytest.mark.parametrize(
    ("birthday", "month_day"),
    [
        (dt.date(1985, 5, 17), "****-05-17"),
        (dt.datetime(1985, 5, 17, 8, 30), "****-05-17"),
        (pd.Timestamp("1990-12-01"), "****-12-01"),
        ("1985-05-17", "****-05-17"),
        ("1985/5/7", "****-05-07"),
        ("1985年5月17日", "****-05-17"),
        ("****-05-17", "****-05-17"),
        ("next spring", MASKED_DATE),
    ],
)
def test_birthdays_hide_the_year_or_everything(birthday, month_day):
    assert mask_birthday(birthday) == MASKED_DATE
    assert mask_birthday(birthday, keep_month_day=True) == month_day


@pytest.mark.parametrize("blank", [None, pd.NaT, np.datetime64("NaT"), float("nan"), ""])
def test_a_missing_birthday_stays_blank(blank):
    assert mask_birthday(blank) == "" and mask_birthday(blank, keep_month_day=True) == ""


def test_every_role_of_auth_has_a_view_of_every_kind():
    assert set(VISIBILITY) == set(ROLES)
    assert all(set(view) == set(KINDS) for view in VISIBILITY.values())


@pytest.mark.parametrize(
    ("role", "name", "phone", "birthday"),
    [("viewer", False, False, False), ("marketing", True, False, False), ("admin", True, True, True)],
)
def test_who_sees_what_in_full(role, name, phone, birthday):
    assert (sees(role, "name"), sees(role, "phone"), sees(role, "birthday")) == (name, phone, birthday)


def test_unknown_roles_and_kinds_are_refused():
    with pytest.raises(ValueError, match="unknown role 'guest': expected one of viewer, marketing, admin"):
        sees("guest", "name")
    with pytest.raises(ValueError, match="unknown kind of personal data 'email'"):
        sees("admin", "email")
    with pytest.raises(ValueError, match="unknown role"):
        mask_personal(pd.DataFrame({"name": ["王小明"]}), "guest")
    with pytest.raises(ValueError, match="unknown kind of personal data 'email'"):
        mask_personal(pd.DataFrame({"x": [1]}), "viewer", {"x": "email"})
    with pytest.raises(ValueError, match="frame must be a pandas DataFrame, got list"):
        mask_personal([], "viewer")


def test_mask_value_follows_the_role():
    assert mask_value("王小明", "name", "viewer") == "王**"
    assert mask_value("王小明", "name", "marketing") == "王小明"
    assert mask_value("13812345678", "phone", "marketing") == "138****5678"
    assert mask_value(dt.date(1985, 5, 17), "birthday", "marketing") == "****-05-17"
    assert mask_value(dt.date(1985, 5, 17), "birthday", "admin") == dt.date(1985, 5, 17)


@pytest.fixture
def members() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "member_id": ["M001", "M002", "M003"],
            "name": ["王小明", "John Smith", None],
            "phone": ["13812345678", "+86 139 8765 4321", None],
            "birthday": pd.to_datetime(["1985-05-17", "1990-12-01", None]),
            "sales": [100.0, 200.0, 300.0],
        }
    )


def test_a_viewer_sees_every_personal_column_masked(members):
    shown = mask_personal(members, "viewer")
    assert shown["name"].tolist() == ["王**", "J*** S***", ""]
    assert shown["phone"].tolist() == ["138****5678", "+86 139****4321", ""]
    assert shown["birthday"].tolist() == [MASKED_DATE, MASKED_DATE, ""]
    # The rest is untouched, and so is the caller's frame.
    pd.testing.assert_frame_equal(shown[["member_id", "sales"]], members[["member_id", "sales"]])
    assert members.loc[0, "name"] == "王小明"


def test_marketing_sees_names_and_birthday_month_days_but_masked_phones(members):
    shown = mask_personal(members, "marketing")
    assert shown["name"].tolist()[:2] == ["王小明", "John Smith"] and pd.isna(shown["name"].iloc[2])
    assert shown["phone"].tolist() == ["138****5678", "+86 139****4321", ""]
    assert shown["birthday"].tolist() == ["****-05-17", "****-12-01", ""]


def test_an_administrator_sees_everything(members):
    assert mask_personal(members, "admin") is members


def test_translated_headers_are_masked_when_named(members):
    frame = members.rename(columns={"name": "姓名", "phone": "手机号"})
    shown = mask_personal(frame, "viewer", {"姓名": "name", "手机号": "phone"})
    assert shown["姓名"].tolist() == ["王**", "J*** S***", ""]
    assert shown["手机号"].tolist()[0] == "138****5678"
    # Without naming them, only the schema's own column names are known.
    assert mask_personal(frame, "viewer")["姓名"].tolist()[0] == "王小明"
    assert PERSONAL_COLUMNS == {"name": "name", "phone": "phone", "birthday": "birthday"}


def test_a_table_without_personal_columns_comes_back_as_it_is():
    frame = pd.DataFrame({"member_id": ["M1"], "tier": ["A"]})
    assert mask_personal(frame, "viewer") is frame
    empty = pd.DataFrame({"name": pd.Series([], dtype=object)})
    assert mask_personal(empty, "viewer").empty
