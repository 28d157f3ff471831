"""Personal data masked by role: what a viewer, marketing and an administrator see of a member.

The mall's documents ask it to *protect* its VIP information, and names, phones and birthdays are personal
information under China's Personal Information Protection Law (DOMAIN.md, "who may see what"): each role sees only
what its work needs. This module holds the rules and the pure masking functions; the dashboard applies
:func:`mask_personal` to every table, download and export before the data leaves the server.

======================  ==================  ==================  ===============
role (``auth.ROLES``)   name                phone               birthday
======================  ==================  ==================  ===============
viewer (executives)     ``王**``, ``J***``  ``138****5678``     ``****-**-**``
marketing               full                ``138****5678``     ``****-05-17``
admin                   full                full                full
======================  ==================  ==================  ===============

Marketing keeps a birthday's month and day because birthday cards and gifts are its work (DOMAIN.md, care
actions); the year (the age) it does not need.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

import pandas as pd

from vipmodel import columns as colmap
from vipmodel.contracts import require_columns

KINDS: tuple[str, ...] = colmap.PERSONAL_COLUMNS  # one list of what is personal, shared with the importer
# The columns of personal data under their own names (``vipmodel.schema.members``): header -> kind.
PERSONAL_COLUMNS: dict[str, str] = {kind: kind for kind in KINDS}
# How each role sees each kind: "full", "masked" or (birthdays) "month_day". A role added to vipmodel.auth.ROLES
# must be added here (tests/vipmodel/test_privacy.py checks); until then masking for it raises, never shows all.
VISIBILITY: dict[str, dict[str, str]] = {
    "viewer": {"name": "masked", "phone": "masked", "birthday": "masked"},
    "marketing": {"name": "full", "phone": "masked", "birthday": "month_day"},
    "admin": {"name": "full", "phone": "full", "birthday": "full"},
}

STARS = "***"  # a Latin word's hidden letters: a fixed run, so the length of the word is not told
PHONE_STARS = "****"
MASKED_DATE = "****-**-**"
# Characters that separate the parts of a name: spaces and the middle dots of transliterated names (阿依古丽·买买提).
_NAME_PARTS = re.compile(r"[\s·・•.]+")
_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f]")
# A mainland mobile written with its country code: +86 / 0086 / 86 then 11 digits starting with 1.
_CN_MOBILE = re.compile(r"^(?:\+|00)?86([1*][\d*]{10})$")
_DATE_TEXT = re.compile(r"^\s*(?:\d{4}|\*{4})[-/.年](\d{1,2}|\*\*)[-/.月](\d{1,2}|\*\*)日?")


def _blank(value: object) -> bool:
    if isinstance(value, str):
        return not value.strip()
    # None, NaN, NaT (pandas' and numpy's) and pd.NA; lists and other containers are not blank.
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def _check_role(role: str) -> str:
    if role not in VISIBILITY:
        raise ValueError(f"unknown role {role!r}: expected one of {', '.join(VISIBILITY)}")
    return role


def sees(role: str, kind: str) -> bool:
    """True when ``role`` sees personal data of ``kind`` ("name", "phone" or "birthday") in full.

    Raises
    ------
    ValueError
        ``"unknown role 'guest': expected one of viewer, marketing, admin"``; ``"unknown kind of personal data
        'email': expected one of name, phone, birthday"``.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind of personal data {kind!r}: expected one of {', '.join(KINDS)}")
    return VISIBILITY[_check_role(role)][kind] == "full"


def mask_name(name: object) -> str:
    """A name with all but the first character of each part hidden.

    A Chinese (CJK) name keeps its first character, normally the surname, and shows one ``*`` per hidden
    character, as Chinese receipts do: ``"王小明"`` -> ``"王**"``, ``"李四"`` -> ``"李*"``. A name in Latin
    letters keeps each word's initial and hides the rest behind ``***`` whatever its length: ``"John Smith"`` ->
    ``"J*** S***"``. A part of a single character is hidden entirely (``"王"`` -> ``"*"``), since its initial
    would be all of it. Masking a masked name changes nothing.

    Parameters
    ----------
    name : object
        The name; anything else than text is written as text first.

    Returns
    -------
    str
        The masked name; ``""`` for None, NaN and blank text.
    """
    if _blank(name):
        return ""
    parts = [p for p in _NAME_PARTS.split(str(name).strip()) if p]
    masked = []
    for part in parts:
        if len(part) == 1:
            masked.append("*")
        elif _CJK.match(part):
            masked.append(part[0] + "*" * (len(part) - 1))
        else:
            masked.append(part[0] + STARS)
    return " ".join(masked)


def mask_phone(phone: object) -> str:
    """A phone number with its middle hidden: ``"13812345678"`` -> ``"138****5678"``.

    Only the digits count (spaces, dashes and brackets are dropped); a mainland mobile written with its country
    code keeps it in front (``"+86 138-1234-5678"`` -> ``"+86 138****5678"``). With 11 or more digits the first
    three (the carrier or area code) and the last four stay; with 7 to 10 only the last four (``"****5678"``);
    shorter numbers, and text without digits, are hidden entirely (``"****"``). A number read from a spreadsheet
    as a float (``13812345678.0``) is read as the integer it is. Masking a masked number changes nothing.

    Returns
    -------
    str
        The masked number; ``""`` for None, NaN and blank text.
    """
    if _blank(phone):
        return ""
    if isinstance(phone, float) and phone.is_integer():
        phone = int(phone)
    text = str(phone).strip()
    compact = re.sub(r"[^\d*+]", "", text)
    prefix = ""
    if match := _CN_MOBILE.match(compact):
        prefix, national = "+86 ", match.group(1)
    else:
        national = compact.replace("+", "")  # "*" counts as a digit already hidden, so masking twice is stable
    n = len(national)
    if n >= 11:
        return f"{prefix}{national[:3]}{PHONE_STARS}{national[-4:]}"
    if n >= 7:
        return f"{prefix}{PHONE_STARS}{national[-4:]}"
    return PHONE_STARS


def mask_birthday(birthday: object, keep_month_day: bool = False) -> str:
    """A birthday hidden as ``"****-**-**"``, or with its month and day kept (``"****-05-17"``).

    Parameters
    ----------
    birthday : datetime.date, datetime.datetime, pandas.Timestamp or str
        Text is read when it starts as a date (``"1985-05-17"``, ``"1985/5/17"``, ``"1985年5月17日"``); other
        text is hidden entirely.
    keep_month_day : bool, default False
        Keep the month and day (for birthday greetings), hide the year.

    Returns
    -------
    str
        The masked birthday; ``""`` for None, NaN, NaT and blank text.
    """
    if _blank(birthday):
        return ""
    if not keep_month_day:
        return MASKED_DATE
    if isinstance(birthday, (dt.date, pd.Timestamp)):
        return f"****-{birthday.month:02d}-{birthday.day:02d}"
    match = _DATE_TEXT.match(str(birthday))
    if match is None or "*" in match.group(1) + match.group(2):
        return MASKED_DATE
    return f"****-{int(match.group(1)):02d}-{int(match.group(2)):02d}"


def mask_value(value: object, kind: str, role: str) -> object:
    """``value``, a piece of personal data of ``kind``, as ``role`` may see it (unchanged when in full).

    Raises
    ------
    ValueError
        For an unknown role or kind, as :func:`sees`.
    """
    if sees(role, kind):
        return value
    if kind == "name":
        return mask_name(value)
    if kind == "phone":
        return mask_phone(value)
    return mask_birthday(value, keep_month_day=VISIBILITY[role]["birthday"] == "month_day")


def mask_personal(frame: pd.DataFrame, role: str, columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """``frame`` with its personal data masked as ``role`` may see it (see the module's table).

    Parameters
    ----------
    frame : pandas.DataFrame
        Any table; columns that hold no personal data are left as they are.
    role : {"viewer", "marketing", "admin"}
        The role of the person the table is for (:data:`vipmodel.auth.ROLES`).
    columns : mapping of str to str, optional
        Further columns holding personal data, header -> kind (``{"姓名": "name"}``), for tables whose headers
        were translated; the columns ``name``, ``phone`` and ``birthday`` (:data:`PERSONAL_COLUMNS`) are always
        masked.

    Returns
    -------
    pandas.DataFrame
        A copy with the masked columns as text (blank values as ``""``), when anything was masked; ``frame``
        itself when ``role`` sees all of its personal columns in full.

    Raises
    ------
    ValueError
        ``"frame must be a pandas DataFrame, got list"``; ``"unknown role 'guest': expected one of viewer,
        marketing, admin"``; ``"unknown kind of personal data 'email': expected one of name, phone, birthday"``.
    """
    require_columns(frame, (), "frame", allow_empty=True)
    _check_role(role)
    wanted = {**PERSONAL_COLUMNS, **dict(columns or {})}
    for kind in wanted.values():
        sees(role, kind)  # validates the kind even where the table lacks the column
    masked = {header: kind for header, kind in wanted.items() if header in frame.columns and not sees(role, kind)}
    if not masked:
        return frame
    out = frame.copy()
    for header, kind in masked.items():
        # astype(object): dates come as Timestamps (and NaT), not numpy datetime64, whatever the column's dtype.
        values = [mask_value(v, kind, role) for v in out[header].astype(object)]
        out[header] = pd.Series(values, index=out.index, dtype=object)
    return out
