"""The sidebar's member filter as a pure function of a frame: which rows a set of member ids and tiers keeps.

No Streamlit and no database: the loaders (``dashboard.data``) and the pages (``dashboard.filters.apply``) resolve
the sidebar's store and tier choice to member ids (``dashboard.data.members.member_ids``) and call :func:`restrict`,
so the filter sits below both and nothing imports back up.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from vipmodel.schema import TIERS as ALL_TIERS


def restrict(frame: pd.DataFrame, ids: pd.Index | Collection | None, tiers: tuple[str, ...] = ALL_TIERS,
             id_column: str = "member_id", tier_column: str = "tier") -> pd.DataFrame:
    """The rows of ``frame`` whose member is in ``ids`` and whose ``tier_column`` is in ``tiers``.

    ``ids`` None keeps every member; ``tiers`` equal to all four tiers filters nothing (rows without a tier, e.g.
    "inactive", stay), any other choice keeps only rows whose own tier is chosen. A frame without a tier of its own
    is filtered on ids only (fold a tier choice into ``ids`` and leave ``tiers`` at all four). Returns ``frame``
    itself when every row is kept; otherwise a new frame, renumbered when ``frame`` had a plain range index.
    """
    keep = np.ones(len(frame), dtype=bool)
    if ids is not None:
        keep &= frame[id_column].isin(ids).to_numpy()
    if tuple(tiers) != ALL_TIERS:
        keep &= frame[tier_column].isin(tiers).to_numpy()
    if keep.all():
        return frame
    kept = frame.loc[keep]
    return kept.reset_index(drop=True) if isinstance(frame.index, pd.RangeIndex) else kept
