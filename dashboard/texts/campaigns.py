"""Strings of the Care page's campaigns panel (the closed loop: plan, record, measure, update)."""

TEXT: dict[str, dict[str, str]] = {
    "campaigns.title": {"en": "Retention campaigns: the closed loop", "zh": "挽留活动：闭环验证"},
    "campaigns.intro": {
        "en": "Give care to at-risk members, hold a random share back, and a year later compare who stayed. "
        "The randomised difference is what care really does; it corrects the response model above, whose effect "
        "is estimated from history where care was not random.",
        "zh": "对有流失风险的会员实施关怀，随机留出一部分作为对照组，一年后比较两组的留存。"
        "随机对照得到的差异才是关怀的真实效果，可用来修正上方基于历史数据（关怀并非随机发放）估计的响应模型。",
    },
    "campaigns.plan_title": {"en": "Plan a campaign", "zh": "策划活动"},
    "campaigns.read_only": {
        "en": "Your role ({role}) may read the campaign results but not plan or record campaigns.",
        "zh": "您的角色（{role}）可以查看活动结果，但不能策划或记录活动。",
    },
    "campaigns.no_at_risk": {
        "en": "No member in the filters has a warning signal on {date}: nobody to plan a campaign for.",
        "zh": "截至 {date}，筛选范围内没有出现预警信号的会员，无需策划挽留活动。",
    },
    "campaigns.no_values": {
        "en": "The at-risk list cannot be built on this data ({reason}).",
        "zh": "无法基于当前数据生成流失风险名单（{reason}）。",
    },
    "campaigns.at_risk_caption": {
        "en": "{n} at-risk members from the Value page's list on {date}.",
        "zh": "来自“价值与流失风险”页的风险名单：截至 {date} 共 {n} 名会员。",
    },
    "campaigns.tiers": {"en": "Tiers in the campaign", "zh": "参与活动的层级"},
    "campaigns.holdout": {"en": "Holdout share", "zh": "对照组比例"},
    "campaigns.holdout_help": {
        "en": "Drawn at random within each tier; these members receive nothing, so the difference they show is "
        "the campaign's effect.",
        "zh": "在每个层级内随机抽取；对照组会员不接受任何关怀，两组的差异即为活动效果。",
    },
    "campaigns.seed": {"en": "Random seed", "zh": "随机种子"},
    "campaigns.seed_help": {
        "en": "The same list and seed always give the same groups; it is stored with the campaign.",
        "zh": "相同的名单和种子总是得到相同的分组；种子随活动一起保存。",
    },
    "campaigns.start": {"en": "Campaign day", "zh": "活动日期"},
    "campaigns.start_help": {
        "en": "After the latest data ({date}): a campaign can only change what has not happened yet.",
        "zh": "须晚于最新数据日期（{date}）：活动只能影响尚未发生的事。",
    },
    "campaigns.actions": {"en": "Actions for {tier}", "zh": "{tier} 的关怀方式"},
    "campaigns.no_tiers": {"en": "Choose at least one tier.", "zh": "请至少选择一个层级。"},
    "campaigns.invalid": {"en": "This campaign cannot be planned: {reason}", "zh": "无法策划该活动：{reason}"},
    "campaigns.metric.members": {"en": "Members", "zh": "会员数"},
    "campaigns.metric.treated": {"en": "Treated", "zh": "干预组"},
    "campaigns.metric.holdout": {"en": "Held out", "zh": "对照组"},
    "campaigns.metric.cost": {"en": "Cost of the actions", "zh": "关怀成本"},
    "campaigns.col.tier": {"en": "Tier", "zh": "层级"},
    "campaigns.col.treated": {"en": "Treated", "zh": "干预组"},
    "campaigns.col.holdout": {"en": "Held out", "zh": "对照组"},
    "campaigns.col.cost": {"en": "Cost", "zh": "成本"},
    "campaigns.col.member_id": {"en": "Member", "zh": "会员号"},
    "campaigns.col.group": {"en": "Group", "zh": "分组"},
    "campaigns.group.treated": {"en": "treated", "zh": "干预组"},
    "campaigns.group.holdout": {"en": "held out", "zh": "对照组"},
    "campaigns.assignment": {"en": "Who is in which group", "zh": "分组名单"},
    "campaigns.record_title": {"en": "Record the campaign", "zh": "记录活动"},
    "campaigns.record": {"en": "Record campaign {id}", "zh": "记录活动 {id}"},
    "campaigns.record_caption": {
        "en": "Stores who is in which group and writes the treated members' care actions; recorded as {name}.",
        "zh": "保存分组名单并写入干预组会员的关怀记录；将以 {name} 的名义记录。",
    },
    "campaigns.note": {"en": "Note (why this campaign)", "zh": "备注（活动目的）"},
    "campaigns.recorded": {
        "en": "Campaign {id} recorded: {n} care actions written.",
        "zh": "活动 {id} 已记录：写入 {n} 条关怀记录。",
    },
    "campaigns.record_failed": {"en": "Not recorded: {reason}", "zh": "未能记录：{reason}"},
    "campaigns.results_title": {"en": "Recorded campaigns and what they measured", "zh": "已记录的活动及其测量结果"},
    "campaigns.none": {"en": "No campaign has been recorded yet.", "zh": "尚未记录任何活动。"},
    "campaigns.col.campaign_id": {"en": "Campaign", "zh": "活动"},
    "campaigns.col.start_date": {"en": "Day", "zh": "活动日期"},
    "campaigns.col.end_date": {"en": "Measured until", "zh": "测量截止"},
    "campaigns.col.n_treated": {"en": "Treated", "zh": "干预组"},
    "campaigns.col.n_holdout": {"en": "Held out", "zh": "对照组"},
    "campaigns.col.author": {"en": "Recorded by", "zh": "记录人"},
    "campaigns.col.status": {"en": "Result", "zh": "结果"},
    "campaigns.status.measured": {"en": "measured", "zh": "已测量"},
    "campaigns.status.waiting": {"en": "measurable once the data reaches {date}", "zh": "数据到达 {date} 后可测量"},
    "campaigns.status.failed": {"en": "cannot be measured: {reason}", "zh": "无法测量：{reason}"},
    "campaigns.col.retention_treated": {"en": "Retention, treated", "zh": "干预组留存率"},
    "campaigns.col.retention_holdout": {"en": "Retention, held out", "zh": "对照组留存率"},
    "campaigns.col.uplift": {"en": "Uplift", "zh": "留存提升"},
    "campaigns.col.uplift_low": {"en": "95% interval, low", "zh": "95% 区间下限"},
    "campaigns.col.uplift_high": {"en": "95% interval, high", "zh": "95% 区间上限"},
    "campaigns.col.spend_uplift": {"en": "Extra spend per member", "zh": "人均消费提升"},
    "campaigns.uplift_caption": {
        "en": "Uplift: retention of the treated minus retention of the held-out members over the year from the "
        "campaign day (Newcombe's 95% interval). An interval containing 0 means the campaign did not show an effect.",
        "zh": "留存提升：活动日起一年内干预组留存率减去对照组留存率（Newcombe 95% 区间）。"
        "区间包含 0 表示未显示出效果。",
    },
    "campaigns.model_title": {"en": "How the campaigns update the response model", "zh": "活动如何修正响应模型"},
    "campaigns.col.source": {"en": "Source", "zh": "来源"},
    "campaigns.col.beta": {"en": "Care effect β", "zh": "关怀效应 β"},
    "campaigns.col.se": {"en": "Standard error", "zh": "标准误"},
    "campaigns.col.se_used": {"en": "Standard error used", "zh": "采用的标准误"},
    "campaigns.col.weight": {"en": "Weight", "zh": "权重"},
    "campaigns.source.observational": {"en": "Response model (history)", "zh": "响应模型（历史数据）"},
    "campaigns.source.campaign": {"en": "Campaign {id}", "zh": "活动 {id}"},
    "campaigns.source.pooled": {"en": "Pooled", "zh": "合并估计"},
    "campaigns.pooled_sentence": {
        "en": "History says β = {obs} ± {obs_se}; the campaigns say β = {camp} ± {camp_se}. Pooled: β = {pooled} ± "
        "{pooled_se}, with {weight} of the weight on the randomised campaigns.",
        "zh": "历史数据：β = {obs} ± {obs_se}；活动：β = {camp} ± {camp_se}。合并后 β = {pooled} ± {pooled_se}，"
        "随机活动占权重的 {weight}。",
    },
    "campaigns.pooling_caption": {
        "en": "The history's standard error covers sampling only, not the possibility that care went to members who "
        "would have stayed anyway; a confounding allowance of {bias} (half of |β|) is added before weighting by "
        "precision, so a randomised campaign can correct it. The campaign's dose is each member's log(1 + care/c0) "
        "with c0 = {c0}.",
        "zh": "历史估计的标准误只反映抽样误差，未考虑关怀本就发给了会留下的会员（混杂）；因此在按精度加权前"
        "加入 {bias}（|β| 的一半）的混杂容差，使随机活动能够修正它。"
        "活动剂量按每位会员的 log(1 + 关怀/c0) 计算，c0 = {c0}。",
    },
    "campaigns.no_pooling": {
        "en": "The response model cannot be updated yet: {reason}",
        "zh": "暂时无法修正响应模型：{reason}",
    },
    "campaigns.nothing_measured": {
        "en": "No campaign has completed its year yet; the response model is updated once one has.",
        "zh": "尚无活动满一年；有活动完成测量后即可修正响应模型。",
    },
}
