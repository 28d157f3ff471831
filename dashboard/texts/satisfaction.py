"""Visible strings of the Satisfaction page's suggested weights: how surely the data orders the three weights, and
the cross-fitted gain (issue 16). The older strings of the page are in dashboard/i18n.py."""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "sat.order.metric": {"en": "Suggested order holds in", "zh": "建议排序成立的比例"},
    "sat.order.help": {
        "en": "Share of the {boot} bootstrap samples (whole members drawn with replacement) in which the three "
        "suggested weights keep the order shown. The order counts as established at {threshold} or more.",
        "zh": "在 {boot} 次自助抽样（按会员整体有放回抽取）中，三个建议权重保持所示排序的比例。"
        "达到 {threshold} 及以上才视为排序成立。",
    },
    "sat.order.established": {
        "en": "The data tells the weights apart: the order {order} holds in {share} of the bootstrap samples "
        "(at least {threshold} needed).",
        "zh": "数据能够区分这些权重：排序 {order} 在 {share} 的自助抽样中成立（至少需要 {threshold}）。",
    },
    "sat.order.unclear": {
        "en": "The data cannot tell the weights apart: the suggested order {order} holds in only {share} of the "
        "bootstrap samples (at least {threshold} needed); {higher} comes before {lower} in only {pair} of them. "
        "Do not read that order as a finding: treat {higher} and {lower} as about equally important and let the "
        "brand's positioning decide.",
        "zh": "数据无法区分这些权重：建议排序 {order} 仅在 {share} 的自助抽样中成立（至少需要 {threshold}）；"
        "{higher}排在{lower}之前的比例仅为 {pair}。请勿把该排序当作结论：可视{higher}与{lower}同等重要，按品牌定位决定。",
    },
    "sat.order.no_bootstrap": {
        "en": "No bootstrap was run, so nothing shows whether the data can tell the weights apart.",
        "zh": "未进行自助抽样，无法判断数据能否区分这些权重。",
    },
    "sat.gain.metric": {"en": "AUC gain on unseen members", "zh": "样本外 AUC 提升"},
    "sat.gain.help": {
        "en": "Cross-fitted: members are split into {folds} groups and each group is scored with weights fitted on "
        "the others, so no member judges the weights it helped fit. Compared with the weights in force on the same "
        "member-years. On the fitting data itself the gain would read {in_sample} (optimistic).",
        "zh": "交叉拟合：将会员分为 {folds} 组，每组使用由其他组拟合的权重评分，任何会员都不评价自己参与拟合的权重；"
        "与当前权重在相同会员年度上比较。若在拟合数据本身上计算，提升为 {in_sample}（偏乐观）。",
    },
}
