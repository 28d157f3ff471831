"""The words of the satisfaction page: the analysis' codes and results as translated names, display tables and
sentences (the charts are in :mod:`dashboard.figures.satisfaction`). No Streamlit."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from dashboard.i18n import fmt_date, fmt_number, fmt_percent, t, tier_name
from vipmodel.satisfaction import (DIMENSIONS, ORDER_PROBABILITY_THRESHOLD, QUADRANTS, InsufficientSurveyData,
                                   SatisfactionWeights, SuggestedWeights, WeightEvaluation)

PERCENT_INDICATORS = ("purchase_rate", "repeat_purchase_rate", "retention_rate")
IPA_COLUMNS = ("dimension", "quadrant", "performance", "importance", "current_weight")


def dimension_names(lang: str) -> dict[str, str]:
    """Display name of each survey dimension."""
    return {d: t(f"sat.dim.{d}", lang) for d in DIMENSIONS}


def quadrant_names(lang: str) -> dict[str, str]:
    """Display name of each importance-performance quadrant."""
    return {q: t(f"sat.quadrant.{q}", lang) for q in QUADRANTS}


def group_names(lang: str) -> dict[str, str]:
    """Display names of the index groups: tiers, members without a tier, an unknown store."""
    return {**{k: tier_name(k, lang) for k in "ABCD"}, "inactive": t("sat.inactive", lang),
            "unknown": t("sat.unknown_store", lang)}


def ipa_table(ipa: pd.DataFrame, lang: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """The importance-performance frame with translated names and headers, and the formats of its share columns."""
    shown = ipa.assign(dimension=ipa["dimension"].map(dimension_names(lang)),
                       quadrant=ipa["quadrant"].map(quadrant_names(lang)),
                       performance=ipa["performance"].round(1))[list(IPA_COLUMNS)]
    names = {c: t(f"sat.col.{c}", lang) for c in IPA_COLUMNS}
    return shown.rename(columns=names), {names[c]: "percent" for c in IPA_COLUMNS[3:]}


def loyalty_table(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Loyalty indicators (``indicator``, ``value``, ``previous``, ``n``) translated, rates as percentages."""
    names = frame["indicator"]

    def shown(values: pd.Series) -> list[str]:
        return [fmt_percent(v, lang) if n in PERCENT_INDICATORS else fmt_number(v, lang, 2)
                for n, v in zip(names, values)]

    table = frame.assign(indicator=[t(f"sat.loyalty.{n}", lang) for n in names], value=shown(frame["value"]),
                         previous=shown(frame["previous"]))[["indicator", "value", "previous", "n"]]
    return table.rename(columns=lambda c: t(f"sat.col.{c}", lang))


def weights_text(weights: SatisfactionWeights, lang: str) -> str:
    """The normalised weights in one line, e.g. "Normalised: Product quality **50.0%** · ..."."""
    return t("sat.normalised", lang) + " · ".join(
        f"{label} **{fmt_percent(w, lang)}**" for label, w in zip(dimension_names(lang).values(), weights.as_array()))


def insufficient_text(exc: InsufficientSurveyData, panel_empty: bool, end: dt.date, lang: str) -> str:
    """Why the weights cannot be judged. An empty churn panel is the commonest cause on real data (too little
    history), which the analysis' message would not say."""
    if panel_empty:
        return t("sat.no_panel", lang, date=fmt_date(end, lang))
    return t("sat.insufficient", lang, reason=str(exc))


def ci_text(low: float, high: float, lang: str, decimals: int = 3) -> str:
    """A 95% confidence interval in words."""
    return t("sat.ci", lang, low=fmt_number(low, lang, decimals), high=fmt_number(high, lang, decimals))


def evaluation_sentence(ev: WeightEvaluation, lang: str) -> str:
    """How well the weights explain what members did next, saying so plainly when it is no better than chance."""
    return t("sat.eval." + ("chance" if ev.auc_low <= 0.5 else "some"), lang, auc=fmt_percent(ev.auc, lang, 0),
             n=fmt_number(ev.n, lang), churned=fmt_number(ev.n_churned, lang))


def gain_sentence(suggested: SuggestedWeights, lang: str) -> str:
    """What the suggested weights gain in AUC on members the fit never saw (cross-fitted), saying so plainly when
    the gain is within the noise."""
    tiny = suggested.auc_gain_low <= 0.0 or abs(suggested.auc_gain) < 0.01
    return t("sat.gain." + ("tiny" if tiny else "real"), lang, gain=f"{suggested.auc_gain:+.3f}",
             low=f"{suggested.auc_gain_low:+.3f}", high=f"{suggested.auc_gain_high:+.3f}",
             p=fmt_number(suggested.lr_pvalue, lang, 2))


def suggested_caption(suggested: SuggestedWeights, lang: str) -> str:
    """How the weights were fitted and resampled: member-years, members, bootstrap draws of whole members."""
    return t("sat.suggested_caption", lang, n=fmt_number(suggested.n, lang), boot=suggested.n_boot,
             members=fmt_number(suggested.n_members, lang))


def suggested_metrics(suggested: SuggestedWeights, lang: str) -> list[tuple[str, str, str]]:
    """``(label, value, help)`` of the two headline numbers of the suggested weights: the share of bootstrap draws
    keeping their order, and the AUC gain on members the fit never saw (with the optimistic in-sample figure in
    the help for comparison)."""
    threshold = fmt_percent(ORDER_PROBABILITY_THRESHOLD, lang, 0)
    return [
        (t("sat.order.metric", lang), fmt_percent(suggested.order_probability, lang, 0),
         t("sat.order.help", lang, boot=suggested.n_boot, threshold=threshold)),
        (t("sat.gain.metric", lang), f"{suggested.auc_gain:+.3f}",
         t("sat.gain.help", lang, folds=suggested.folds, in_sample=f"{suggested.auc_gain_in_sample:+.3f}")),
    ]


def order_sentence(suggested: SuggestedWeights, lang: str) -> tuple[str, bool]:
    """Whether the data tells the three weights apart, in words, and whether it does: the order is established
    when it holds in at least :data:`vipmodel.satisfaction.ORDER_PROBABILITY_THRESHOLD` of the bootstrap draws;
    otherwise the sentence names the neighbouring pair that swaps most often."""
    if math.isnan(suggested.order_probability):
        return t("sat.order.no_bootstrap", lang), False
    names = dimension_names(lang)
    values = {"order": " > ".join(names[d] for d in suggested.order),
              "share": fmt_percent(suggested.order_probability, lang, 0),
              "threshold": fmt_percent(ORDER_PROBABILITY_THRESHOLD, lang, 0)}
    if suggested.order_established:
        return t("sat.order.established", lang, **values), True
    higher, lower, pair = suggested.weakest_pair()
    return t("sat.order.unclear", lang, higher=names[higher], lower=names[lower], pair=fmt_percent(pair, lang, 0),
             **values), False
