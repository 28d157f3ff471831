"""Complaints & churn page: the per-complaint associations adjusted for satisfaction, next to the unadjusted ones."""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "cpl.adj.title": {
        "en": "Per complaint, among members alike in tier, spend and satisfaction",
        "zh": "每次投诉与流失的关联（层级、消费额、满意度相同的会员之间）",
    },
    "cpl.adj.kind.resolved_quick": {
        "en": "{cat} complaint resolved within {days} days",
        "zh": "{days} 天内解决的{cat}投诉",
    },
    "cpl.adj.kind.resolved_slow": {
        "en": "{cat} complaint resolved after more than {days} days",
        "zh": "超过 {days} 天才解决的{cat}投诉",
    },
    "cpl.adj.kind.unresolved": {"en": "unresolved {cat} complaint", "zh": "未解决的{cat}投诉"},
    "cpl.adj.sentence": {
        "en": "Each additional {kind} is associated with {ratio}× the odds of churn ({level} CI {low}–{high}), "
        "adjusted for {controls}.",
        "zh": "调整{controls}后，每多一次{kind}，关联的流失优势比为 {ratio} 倍（{level} 置信区间 {low}–{high}）。",
    },
    "cpl.adj.not_significant": {
        "en": " The interval includes 1: not statistically significant.",
        "zh": "区间包含 1：无统计学意义。",
    },
    "cpl.adj.without": {
        "en": " Without the satisfaction adjustment (same members): {ratio}×.",
        "zh": "不调整满意度（同一批会员）：{ratio} 倍。",
    },
    "cpl.adj.and": {"en": " and ", "zh": "和"},
    "cpl.adj.sep": {"en": ", ", "zh": "、"},
    "cpl.control.satisfaction": {
        "en": "satisfaction (survey scores of product, service and image)",
        "zh": "满意度（产品、服务、形象三部分问卷得分）",
    },
    "cpl.adj.caption": {
        "en": "Logistic regression, adjusted for {controls}, on the {n} member-years with a satisfaction survey in "
        "the year ({members} members; {excluded} member-years without a survey are left out).",
        "zh": "逻辑回归，调整了{controls}；样本为当年填写了满意度问卷的 {n} 个会员年度（{members} 位会员；"
        "未填问卷的 {excluded} 个会员年度不计入）。",
    },
    "cpl.adj.caption_unadjusted": {
        "en": "Logistic regression, adjusted for {controls} only, on {n} member-years ({members} members).",
        "zh": "逻辑回归，仅调整了{controls}；样本 {n} 个会员年度（{members} 位会员）。",
    },
    "cpl.adj.association": {
        "en": "An odds ratio above 1 means more churn. These are associations among members alike in what is "
        "adjusted for, not proven effects of complaints: anything else that differs between complainers and the "
        "others is still mixed in.",
        "zh": "优势比大于 1 表示流失更多。这些是在所调整因素相同的会员之间的相关关系，并非已证实的投诉因果影响："
        "投诉会员与其他会员之间的其他差异仍然混杂在内。",
    },
    "cpl.adj.clustered": {
        "en": "Intervals allow for members counted in both years (standard errors clustered by member).",
        "zh": "置信区间考虑了同一会员在两个年度重复出现（按会员聚类的标准误）。",
    },
    "cpl.adj.status": {
        "en": "A complaint's handling is the one recorded by the end of the following year: one resolved after "
        "its year ended counts as resolved (quickly or slowly), not as open.",
        "zh": "投诉处理状态以次年年底前的记录为准：在当年结束后才解决的投诉按实际用时计为已解决（及时或缓慢），不计为未解决。",
    },
    "cpl.adj.fallback": {
        "en": "Satisfaction could not be taken into account ({reason}). The figures below are adjusted for "
        "{controls} only, so they also carry the dissatisfaction complainers start with and overstate the "
        "association.",
        "zh": "无法调整满意度（{reason}）。以下数字仅调整了{controls}，因此也包含投诉会员本来就较低的满意度，会高估相关程度。",
    },
    "cpl.err.no_survey": {
        "en": "no member-year has a complete satisfaction survey",
        "zh": "没有会员年度填写了完整的满意度问卷",
    },
    "cpl.adj.chart_title": {
        "en": "Odds ratio of churn per complaint: adjusted for satisfaction and not",
        "zh": "每次投诉的流失优势比：调整与不调整满意度",
    },
    "cpl.adj.axis": {
        "en": "Odds ratio per additional complaint (log scale, 95% CI; 1 = no association)",
        "zh": "每多一次投诉的优势比（对数刻度，95% 置信区间；1 = 无关联）",
    },
    "cpl.adj.model.adjusted": {"en": "Adjusted for satisfaction", "zh": "调整满意度"},
    "cpl.adj.model.same_sample": {"en": "Not adjusted (same members)", "zh": "不调整（同一批会员）"},
    "cpl.adj.model.unadjusted": {"en": "Not adjusted (all member-years)", "zh": "不调整（全部会员年度）"},
    "cpl.adj.col.kind": {"en": "Complaint (per additional one)", "zh": "投诉类型（每多一次）"},
}
