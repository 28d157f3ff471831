"""Visible strings of the churn-risk maintenance plan: warning signs, likely reasons, retention actions and the
plan's column headers (the codes of ``vipmodel.retention``, translated here)."""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "retention.signal.low_p_alive": {"en": "Model says probably inactive", "zh": "模型判断可能已流失"},
    "retention.signal.overdue": {"en": "Overdue by own shopping rhythm", "zh": "超过自身购物周期未到店"},
    "retention.signal.spend_falling": {"en": "Spend falling (last 6 months)", "zh": "近半年消费下降"},
    "retention.reason.complaint_unresolved": {"en": "Complaint not resolved", "zh": "投诉未解决"},
    "retention.reason.complaint_slow": {"en": "Complaint resolved slowly", "zh": "投诉处理过慢"},
    "retention.reason.satisfaction_low": {"en": "Low satisfaction", "zh": "满意度低"},
    "retention.reason.satisfaction_falling": {"en": "Satisfaction falling", "zh": "满意度下降"},
    "retention.reason.tier_downgrade": {"en": "Tier downgraded", "zh": "等级下降"},
    "retention.reason.spend_down": {"en": "Spend down on last year", "zh": "消费较去年下降"},
    "retention.reason.no_care_contact": {"en": "No care contact recently", "zh": "近期无关怀联系"},
    "retention.reason.no_clear_reason": {"en": "No clear reason in the data", "zh": "数据中无明显原因"},
    "retention.action.resolve_complaint": {
        "en": "Resolve the open complaint first (call, apologise, fix)",
        "zh": "先解决未结投诉（致电、致歉、处理）",
    },
    "retention.action.personal_care": {
        "en": "Personal call by the account manager + gift + invitation to a member event",
        "zh": "客户经理亲自致电 + 礼品 + 会员活动邀请",
    },
    "retention.action.tailored_offer": {
        "en": "Tailored offer from the purchase record + call",
        "zh": "根据消费记录定制优惠 + 电话回访",
    },
    "retention.action.info_sms": {"en": "Information / coupon SMS", "zh": "资讯/优惠券短信"},
    "retention.action.lift_to_c": {
        "en": "Has potential: information / coupon SMS to lift to tier C",
        "zh": "有潜力：资讯/优惠券短信，提升至钢铁层",
    },
    "retention.action.no_spend": {
        "en": "No retention spend; reduce benefits carefully (avoid bad word of mouth)",
        "zh": "不投入挽留费用；谨慎减少优惠（避免负面口碑）",
    },
    "retention.plan.member_id": {"en": "Member ID", "zh": "会员编号"},
    "retention.plan.name": {"en": "Name", "zh": "姓名"},
    "retention.plan.tier": {"en": "Tier", "zh": "等级"},
    "retention.plan.score": {"en": "Risk score", "zh": "流失风险"},
    "retention.plan.signals": {"en": "Warning signs", "zh": "预警信号"},
    "retention.plan.reasons": {"en": "Likely reasons", "zh": "可能原因"},
    "retention.plan.value_at_risk": {"en": "Value at risk (CNY)", "zh": "风险价值（元）"},
    "retention.plan.action": {"en": "Action", "zh": "挽留措施"},
    "retention.plan.action_cost": {"en": "Cost (CNY)", "zh": "费用（元）"},
    "retention.plan.expected_benefit": {"en": "Expected benefit (CNY)", "zh": "预期收益（元）"},
    "retention.plan.owner": {"en": "Owner", "zh": "负责人"},
    "retention.plan.due_date": {"en": "Due date", "zh": "完成期限"},
}
