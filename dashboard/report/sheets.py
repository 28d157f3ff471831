"""The lists behind the weekly pack's charts as workbook sheets: personal data masked for the reader's role, codes
translated, headers in the pack's language (no Streamlit)."""

from __future__ import annotations

import pandas as pd

from dashboard.i18n import TEXT, t, tier_name
from vipmodel import privacy
from vipmodel.schema import TIERS
from vipmodel.weekly import WeeklySummary

INACTIVE = "inactive"


def _translate_codes(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    out = frame.copy()
    for column in ("tier", "from_tier", "to_tier", "from_state"):
        if column in out.columns:
            out[column] = [_state_name(s, lang) for s in out[column]]
    if "reason_primary" in out.columns:
        out["reason_primary"] = [_word("reason", r, lang) for r in out["reason_primary"]]
    if "action" in out.columns:
        out["action"] = [_word("action", a, lang) for a in out["action"]]
    if "open_complaint" in out.columns:
        out["open_complaint"] = [t("report.yes" if f else "report.no", lang) for f in out["open_complaint"]]
    if "type" in out.columns:
        out["type"] = [t(f"cpl.kind_cat.{c}", lang) if isinstance(c, str) else c for c in out["type"]]
    return out


def _word(kind: str, code: object, lang: str) -> object:
    """A retention reason or action code in words (``dashboard/texts/retention.py``); anything else as it is."""
    key = f"retention.{kind}.{code}"
    return t(key, lang) if isinstance(code, str) and key in TEXT else code


def _state_name(state: object, lang: str) -> object:
    if not isinstance(state, str):
        return state
    if state in TIERS:
        return tier_name(state, lang)
    if state in ("new", "lost"):
        return t(f"migration.state.{state}", lang)
    return t("report.inactive", lang) if state == INACTIVE else state


def build_sheets(summary: WeeklySummary, contacts: pd.DataFrame | None, lang: str, role: str) -> dict[str, pd.DataFrame]:
    """The lists behind the charts, one per sheet: personal data (``name``, ``phone`` from ``contacts``) masked as
    ``role`` may see them (``vipmodel.privacy``), codes translated, headers in ``lang``."""
    lists = {
        "at_risk": summary.at_risk,
        "downgrades": summary.downgrades,
        "new_platinum": summary.new_platinum,
        "overdue": summary.overdue_complaints,
    }
    sheets = {}
    for key, frame in lists.items():
        frame = frame.copy()
        if contacts is not None and len(frame):
            people = contacts.set_index("member_id")
            ids = frame["member_id"].astype(str)
            at = frame.columns.get_loc("member_id") + 1
            frame.insert(at, "name", people["name"].reindex(ids).to_numpy())
            frame.insert(at + 1, "phone", people["phone"].reindex(ids).to_numpy())
        frame = privacy.mask_personal(frame, role)  # before translation: the personal columns have their own names
        frame = _translate_codes(frame, lang)
        sheets[t(f"report.sheet.{key}", lang)] = frame.rename(columns=lambda c: t(f"report.col.{c}", lang))
    return sheets
