"""The words of the complaint-to-churn evidence: the analysis' language-neutral codes and
:class:`~vipmodel.complaints.Effect` template arguments as translated labels, sentences, captions, and the frames
and tables the charts of :mod:`dashboard.figures.complaints` and the page show. No Streamlit."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from dashboard.i18n import fmt_number, t, tier_name
from vipmodel.complaints import (
    COUNT_COLUMNS, MIN_EXPECTED, RESOLUTION_EDGES, AdjustedEffects, Effect, GroupTest, RegressionResult,
)
from vipmodel.outcomes import SLOW_AFTER_DAYS

# The analysis speaks in language-neutral codes; these turn them into the words on the axes, tables and sentences.
_ERRORS: dict[str, str] = {
    "too few member-years": "cpl.err.too_few",
    "churned has only one value": "cpl.err.one_outcome",
    "panel has no member with a complaint": "cpl.err.no_complainer",
    "regression could not be estimated: ": "cpl.err.not_estimated",
    "no member-year has a complete satisfaction survey": "cpl.err.no_survey",
}


def group_label(code: str, lang: str) -> str:
    """A group code of :func:`vipmodel.complaints.churn_by_group` (``"none"``, ``"le_7d"``...) in ``lang``."""
    edges = [f"{e:g}" for e in RESOLUTION_EDGES]
    if code.startswith(("le_", "gt_")) and code[3:-1] in edges:
        i = edges.index(code[3:-1])
        if code.startswith("gt_"):
            return t("cpl.group.res_over", lang, low=edges[i])
        if i == 0:
            return t("cpl.group.res_first", lang, high=edges[i])
        return t("cpl.group.res_between", lang, low=edges[i - 1], high=edges[i])
    return t(f"cpl.group.{code}", lang, days=SLOW_AFTER_DAYS)


def kind_label(column: str, lang: str) -> str:
    """A complaint count column (``"service_unresolved"``) as a short label ("Service, unresolved")."""
    category, status = column.split("_", 1)
    return t("cpl.kind", lang, cat=t(f"cpl.kind_cat.{category}", lang),
             status=t(f"cpl.kind_status.{status}", lang, days=SLOW_AFTER_DAYS))


def _who(code: str, lang: str) -> str:
    if code == "none":
        return t("cpl.who.none", lang)
    category, status = code.split("_", 1)
    return t(f"cpl.who.{status}", lang, cat=t(f"cpl.cat.{category}", lang), days=SLOW_AFTER_DAYS)


def effect_sentence(effect: Effect, lang: str) -> str:
    """The effect as one plain sentence in ``lang`` from its template key and arguments, e.g. "Members with an
    unresolved service complaint churned 2.6× as often as members with no complaint (95% CI 2.3–3.0)."; an
    interval that includes 1 adds "not statistically significant"."""
    args = {**effect.template_args(), "group": _who(effect.exposed_label, lang),
            "reference": _who(effect.reference_label, lang)}
    return t(effect.template_key + ("" if effect.significant else ".not_significant"), lang, **args)


def effects_frame(effects: Sequence[Effect], lang: str) -> pd.DataFrame:
    """The input of :func:`forest_plot`: one row per effect, in the given order, labelled in ``lang``."""
    return pd.DataFrame(
        [{"label": kind_label(e.exposed_label, lang), "relative_risk": e.relative_risk, "rr_low": e.rr_low,
          "rr_high": e.rr_high, "significant": e.significant} for e in effects],
        columns=["label", "relative_risk", "rr_low", "rr_high", "significant"],
    )


def effects_caption(effects: Sequence[Effect], lang: str) -> str:
    """What the relative risks compare (not adjusted), and the complaint kinds nobody had."""
    missing = [c for c in COUNT_COLUMNS if c not in {e.exposed_label for e in effects}]
    text = t("cpl.effects_caption", lang)
    return text + (" " + t("cpl.effects_missing", lang, kinds=", ".join(kind_label(c, lang) for c in missing))
                   if missing else "")


def feature_label(column: str, lang: str) -> str:
    """A column of :func:`vipmodel.complaints.correlation_matrix` in ``lang``."""
    return kind_label(column, lang) if column in COUNT_COLUMNS else t(f"cpl.feature.{column}", lang)


def correlation_caption(matrix: pd.DataFrame, lang: str) -> str:
    """How to read the matrix, and the constant columns it left out."""
    constant = matrix.attrs.get("constant_columns") or []
    text = t("cpl.corr_caption", lang)
    return text + (" " + t("cpl.corr_constant", lang, columns=", ".join(feature_label(c, lang) for c in constant))
                   if constant else "")


def p_text(p: float, lang: str) -> str:
    """``"< 0.001"`` or ``"= 0.042"``: a p-value as read aloud in a meeting."""
    return "< 0.001" if p < 0.001 else f"= {fmt_number(p, lang, 3)}"


def explain_error(exc: ValueError, lang: str) -> str:
    """The analysis' ValueError in ``lang`` when it is a known one, else its message as it is."""
    message = str(exc)
    key = next((k for prefix, k in _ERRORS.items() if message.startswith(prefix)), None)
    return t(key, lang, reason=message.split(": ", 1)[-1]) if key else message


def group_test_text(test: GroupTest, lang: str) -> str:
    """The chi-square / Fisher test of :func:`vipmodel.complaints.group_difference_test` as sentences, saying
    whether the difference is significant at 5% and when small groups make the p-value approximate."""
    text = [t(f"cpl.test.{test.test}", lang, stat=fmt_number(test.statistic, lang, 1), dof=test.dof,
              p=p_text(test.p_value, lang), n=fmt_number(test.n, lang)),
            t("cpl.test.significant" if test.p_value < 0.05 else "cpl.test.not_significant", lang)]
    if test.test == "pearson_chi2" and test.min_expected < MIN_EXPECTED:
        text.append(t("cpl.test.small_expected", lang))
    return " ".join(text)


def _controls_text(result: RegressionResult, lang: str) -> str:
    names = [t(f"cpl.control.{c}", lang, tier=tier_name(result.reference_tier or "", lang)) for c in result.controls]
    return t("cpl.adj.and", lang).join([t("cpl.adj.sep", lang).join(names[:-1]), names[-1]]) if len(names) > 1 \
        else "".join(names)


def _ratio(x: float) -> str:
    return f"{x:.2f}"


def adjusted_sentences(effects: AdjustedEffects, lang: str) -> list[str]:
    """One sentence per complaint kind, the headline fit's odds ratio worded as an association adjusted for its
    controls (named), with the same members' figure without the satisfaction adjustment next to it."""
    head = effects.headline
    same = effects.same_sample.table if effects.same_sample is not None else None
    out = []
    for term, row in head.complaint_effects().iterrows():
        category, status = term.split("_", 1)
        args = {"kind": t(f"cpl.adj.kind.{status}", lang, cat=t(f"cpl.cat.{category}", lang), days=SLOW_AFTER_DAYS),
                "ratio": _ratio(row["odds_ratio"]), "low": _ratio(row["or_low"]), "high": _ratio(row["or_high"]),
                "level": f"{head.confidence:.0%}", "controls": _controls_text(head, lang)}
        text = t("cpl.adj.sentence", lang, **args)
        if row["or_low"] <= 1.0 <= row["or_high"]:
            text += t("cpl.adj.not_significant", lang)
        if same is not None and term in same.index:
            text += t("cpl.adj.without", lang, ratio=_ratio(same.loc[term, "odds_ratio"]))
        out.append(text)
    return out


def adjusted_caption(effects: AdjustedEffects, lang: str) -> str:
    """What the headline figures are adjusted for, on which member-years, that they are associations, and how
    intervals and handling status are defined; or, without a usable survey, why satisfaction is not controlled."""
    head = effects.headline
    numbers = {"n": fmt_number(head.n, lang), "members": fmt_number(head.n_clusters, lang),
               "excluded": fmt_number(head.n_excluded, lang), "controls": _controls_text(head, lang)}
    text = [t("cpl.adj.caption" if effects.adjusted is not None else "cpl.adj.caption_unadjusted", lang, **numbers),
            t("cpl.adj.association", lang), t("cpl.adj.clustered", lang), t("cpl.adj.status", lang)]
    if head.dropped_terms:
        text.append(t("cpl.reg_dropped", lang, kinds=", ".join(kind_label(c, lang) for c in head.dropped_terms)))
    return " ".join(text)


def adjustment_fallback(effects: AdjustedEffects, lang: str) -> str | None:
    """The warning when satisfaction could not be controlled for (None when it was)."""
    if effects.adjusted is not None:
        return None
    return t("cpl.adj.fallback", lang, reason=explain_error(ValueError(effects.adjusted_error or ""), lang),
             controls=_controls_text(effects.unadjusted, lang))


def comparison_frame(effects: AdjustedEffects, lang: str) -> pd.DataFrame:
    """The input of :func:`adjustment_plot`: each fit's odds ratio per complaint kind, labelled in ``lang``
    (adjusted first)."""
    frame = effects.comparison()
    return pd.DataFrame({
        "label": [kind_label(term, lang) for term in frame["term"]],
        "model": [t(f"cpl.adj.model.{m}", lang) for m in frame["model"]],
        "odds_ratio": frame["odds_ratio"], "or_low": frame["or_low"], "or_high": frame["or_high"],
    })


def comparison_table(effects: AdjustedEffects, lang: str) -> pd.DataFrame:
    """One row per complaint kind, one column per fit: "odds ratio (interval)", the adjusted one first."""
    frame = effects.comparison()
    cells = frame.assign(cell=[f"{_ratio(r)} ({_ratio(lo)}–{_ratio(hi)})"
                               for r, lo, hi in zip(frame["odds_ratio"], frame["or_low"], frame["or_high"])])
    wide = cells.pivot(index="term", columns="model", values="cell")
    models = [m for m in ("adjusted", "same_sample", "unadjusted") if m in wide.columns]
    terms = [c for c in COUNT_COLUMNS if c in wide.index]
    out = wide.loc[terms, models].rename(columns=lambda m: t(f"cpl.adj.model.{m}", lang))
    out = out.rename_axis(columns=None).reset_index(drop=True)
    out.insert(0, t("cpl.adj.col.kind", lang), [kind_label(c, lang) for c in terms])
    return out
