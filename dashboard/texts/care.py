"""Visible strings of the care what-if page added for the estimated response shape and the supported care range."""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "care.support_caption": {
        "en": "Care per member and year the history supports (the {q}th percentile of what members of the tier "
        "received in the two years behind the model): {ranges}. Beyond it a result rests on the assumed curve, "
        "not on data, and is marked ⚠.",
        "zh": "历史数据支持的每位会员年关怀投入（模型所依据两年内该层会员实际获得关怀的第 {q} 百分位）：{ranges}。"
        "超出此范围的结果依赖假定的响应曲线而非数据，以 ⚠ 标注。",
    },
    "care.beyond_history": {"en": "⚠ beyond history", "zh": "⚠ 超出历史范围"},
    "care.extrapolation_warning": {
        "en": "⚠ Extrapolation: the edited plan spends more per member than the history supports in {tiers}. "
        "Those results extrapolate the assumed response curve.",
        "zh": "⚠ 外推：调整方案在 {tiers} 的人均投入超出历史数据支持的范围，这些结果是对假定响应曲线的外推。",
    },
    "care.alloc_extrapolation": {
        "en": "⚠ Extrapolation: with the widened range the optimiser spends more per member than the history "
        "supports in {tiers}.",
        "zh": "⚠ 外推：放宽范围后，优化方案在 {tiers} 的人均投入超出历史数据支持的范围。",
    },
    "care.col.supported_spend_per_member": {"en": "History supports up to (¥/member)", "zh": "历史支持上限（¥/人）"},
    "care.col.extrapolated": {"en": "Extrapolation", "zh": "外推"},
    "care.col.max_spend_per_member": {"en": "Optimiser limit (¥/member)", "zh": "优化上限（¥/人）"},
    "care.widen": {"en": "Optimiser's care range", "zh": "优化方案的投入范围"},
    "care.widen.within": {"en": "Within the history (×1)", "zh": "不超出历史范围（×1）"},
    "care.widen.scale": {"en": "Up to ×{scale} the history (extrapolation)", "zh": "最多为历史范围的 ×{scale}（外推）"},
    "care.widen.none": {"en": "No limit but the actions' (extrapolation)", "zh": "仅受关怀措施上限约束（外推）"},
    "care.widen_help": {
        "en": "By default the optimiser spends no more per member than the history supports. Widening the range "
        "lets it follow the assumed curve where no member was ever cared for that much.",
        "zh": "默认情况下，优化方案的人均投入不超过历史数据支持的范围。放宽范围后，优化会沿假定曲线延伸到从未有会员获得过的关怀水平。",
    },
    "care.curve.beyond": {"en": "Beyond the history", "zh": "超出历史范围"},
    "care.assumptions_title": {"en": "Assumptions behind these numbers", "zh": "这些数字背后的假设"},
    "care.assumptions": {
        "en": "- **Response shape**: within a tier, the log-odds of churn fall by β × log(1 + annual care ÷ c0). "
        "c0 is estimated from the history (¥{c0}, 95% interval ¥{c0_low} – ¥{c0_high}); the history pins it "
        "down only loosely, and β moves with it.\n"
        "- **No unmeasured confounding** beyond the controls: given tier, sales, visits, complaints, home store, "
        "last year's sales and whether the member is new (newcomers get little care and churn more for reasons "
        "of their own), nothing that drives churn also decides who gets care.\n"
        "- **A yuan of any action works alike**, and one β holds for every tier.\n"
        "- **Supported range**: only care levels members actually received are backed by data; beyond them "
        "(⚠) the curve is extrapolated, and the optimiser stays within them unless you widen the range.\n"
        "- **The bands** (5–95%) include the joint uncertainty of β, c0 and each tier's baseline churn "
        "(cluster bootstrap), the sampling error of each tier's member value, and the chance of which members "
        "actually stay. They do not include a wrong response shape or confounding.",
        "zh": "- **响应形状**：同一层级内，流失的对数几率按 β × log(1 + 年关怀投入 ÷ c0) 下降。c0 由历史数据估计"
        "（¥{c0}，95% 区间 ¥{c0_low} – ¥{c0_high}）；历史数据对它的约束较弱，β 随之变化。\n"
        "- **除控制变量外无未观测混杂**：在层级、消费、到店次数、投诉、所属门店、上一年消费及是否新会员（新会员获得的关怀少，"
        "且因自身原因更易流失）给定时，没有其他同时影响流失与关怀分配的因素。\n"
        "- **各类关怀每元效果相同**，且各层使用同一个 β。\n"
        "- **支持范围**：只有会员实际获得过的关怀水平有数据支撑；超出部分（⚠）是曲线外推，除非您放宽范围，"
        "优化方案不会超出。\n"
        "- **区间**（5–95%）包含 β、c0 与各层基线流失率的联合不确定性（整群自助抽样）、各层会员价值的抽样误差，"
        "以及哪些会员实际留下的随机性；不包含响应形状错误或混杂带来的偏差。",
    },
}
