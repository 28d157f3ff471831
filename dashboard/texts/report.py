"""Strings of the weekly meeting pack (Report page, deck, HTML, PDF, workbook) and of the migration page's
value-weighted flows; the highlight sentences are filled only from ``vipmodel.weekly.Highlight.values``."""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "sidebar.preparing_pack": {
        "en": "⏳ Preparing last week's meeting pack in the background (value models for the week's Sunday).",
        "zh": "⏳ 正在后台准备上周的例会资料（按该周周日计算价值模型）。",
    },
    "report.scope_reason": {
        "en": "the meeting pack always covers the whole mall, every store and tier, for the chosen week",
        "zh": "例会资料始终覆盖整个商场的全部门店和层级，按所选周统计",
    },
    # --- Migration page: flows weighted by value, and what the projection means under a share rule -------------
    "migration.weight": {"en": "Size the flows by", "zh": "流量大小按"},
    "migration.weight.profit_contribution": {"en": "Profit contribution", "zh": "利润贡献"},
    "migration.weight.sales": {"en": "Sales", "zh": "销售额"},
    "migration.weight.members": {"en": "Members", "zh": "会员人数"},
    "migration.weight_help": {
        "en": "Weighted by members, Platinum and Gold (1% and 4% of members) are hairlines; weighted by profit they "
        "show what is at stake.",
        "zh": "按人数计时白金层和黄金层（占会员 1% 和 4%）细如发丝；按利润计时可看出利害所在。",
    },
    "migration.sankey_title.members": {"en": "Members moving {start} → {end}", "zh": "会员流动（人数）{start} → {end}"},
    "migration.sankey_title.profit_contribution": {
        "en": "Profit contribution moving {start} → {end}", "zh": "利润贡献流动 {start} → {end}"},
    "migration.sankey_title.sales": {"en": "Sales moving {start} → {end}", "zh": "销售额流动 {start} → {end}"},
    "migration.weight_caption": {
        "en": "Each flow is its members' value in the earlier period (new members: in the later one); negative "
        "contributions count as zero. Percentages are shares of each column.",
        "zh": "每条流量为其会员在前一期的价值（新会员按后一期计）；负的利润贡献按零计。百分比为各列内的占比。",
    },
    "migration.share_rule_projection": {
        "en": "The tier rule in force is share-based (top 1% / 4% / 15% of active members): in every real period the "
        "tiers hold those shares by construction. The projection therefore does not forecast tier sizes; it shows "
        "where members would drift if they kept moving as observed — read the gap to the rule's shares as pressure "
        "on who holds each tier.",
        "zh": "当前分层规则按比例划分（活跃会员的前 1% / 4% / 15%）：实际每一期各层占比由规则固定。"
        "因此该预测并非各层人数的预测，而是显示会员若按观察到的比率继续流动将趋向何处——"
        "与规则占比的差距反映了各层成员更替的压力。",
    },
    # --- The weekly meeting pack --------------------------------------------------------------------------------
    "page.report": {"en": "Weekly report", "zh": "周报"},
    "report.title": {"en": "Weekly VIP meeting", "zh": "VIP 周例会"},
    "report.subtitle": {"en": "Week {week} · {start} – {end}", "zh": "{week} 周 · {start} – {end}"},
    "report.partial": {
        "en": "The data ends inside this week: its figures cover fewer than 7 days.",
        "zh": "数据在本周中途截止：本周数字不足 7 天。",
    },
    "report.highlights": {"en": "This week's highlights", "zh": "本周要点"},
    "report.no_highlight": {"en": "No notable change in this area this week.", "zh": "本周此方面无明显变化。"},
    "report.kpi_title": {"en": "Key figures of week {week}", "zh": "{week} 周关键指标"},
    "report.kpi.col.kpi": {"en": "Indicator", "zh": "指标"},
    "report.kpi.col.value": {"en": "This week", "zh": "本周"},
    "report.kpi.col.week": {"en": "vs. last week", "zh": "环比上周"},
    "report.kpi.col.year": {"en": "vs. a year ago", "zh": "同比去年"},
    "report.section.pyramid": {"en": "The pyramid at week end", "zh": "周末的顾客金字塔"},
    "report.section.migration": {"en": "Lifetime value moving between tiers", "zh": "各层之间流动的终身价值"},
    "report.section.migration_members": {"en": "Members moving between tiers", "zh": "各层之间流动的会员"},
    "report.section.risk": {"en": "Members with the most value at risk", "zh": "风险价值最高的会员"},
    "report.section.complaints": {"en": "Complaints", "zh": "投诉"},
    "report.section.satisfaction": {"en": "Satisfaction (0–100)", "zh": "满意度（0–100）"},
    "report.section.care": {"en": "Care spend against plan", "zh": "关怀支出与计划对比"},
    "report.series.this_week": {"en": "This week", "zh": "本周"},
    "report.series.last_week": {"en": "Last week", "zh": "上周"},
    "report.series.plan": {"en": "Plan (a week's share)", "zh": "计划（按周分摊）"},
    "report.series.spend": {"en": "Care spend this week", "zh": "本周关怀支出"},
    "report.axis.value_at_risk": {"en": "Value at risk (¥)", "zh": "风险价值（¥）"},
    "report.measure.opened": {"en": "Opened", "zh": "新增"},
    "report.measure.resolved": {"en": "Resolved", "zh": "已解决"},
    "report.measure.overdue": {"en": "Overdue (open)", "zh": "逾期未结"},
    "report.inactive": {"en": "Outside the pyramid", "zh": "金字塔外"},
    "report.index": {"en": "Index (weighted)", "zh": "综合指数（加权）"},
    "report.last_week_column": {"en": "Week {week}", "zh": "{week} 周"},
    # Speaker notes and the notes under each chart: the method and its caveat.
    "report.note.pyramid": {
        "en": "Method: members with a purchase in the 12 months up to each Sunday, tiered by the tier rule in force "
        "(share-based rules rank by profit contribution). Caveat: a rolling 12-month window moves slowly; a weekly "
        "change is members crossing a boundary, and under a share rule the tier sizes are fixed by construction.",
        "zh": "方法：截至每个周日的近 12 个月内有消费的会员，按当前分层规则划分（按比例规则以利润贡献排序）。"
        "注意：滚动 12 个月窗口变化缓慢，周变化是跨越边界的会员；按比例规则下各层人数由规则固定。",
    },
    "report.note.migration": {
        "en": "Method: each member's tier at last Sunday and this Sunday; flows are sized by the members' model "
        "lifetime value (BG/NBD + Gamma-Gamma, 3 years, discounted), so Platinum and Gold are not hairlines. "
        "Caveat: the value is a model estimate without an interval; members leaving the pyramid keep their value.",
        "zh": "方法：每位会员上周日与本周日的层级；流量按模型终身价值（BG/NBD + Gamma-Gamma，3 年，折现）计，"
        "因此白金层和黄金层不会细如发丝。注意：价值为模型估计，不含区间；离开金字塔的会员保留其价值。",
    },
    "report.note.migration_members": {
        "en": "Method: each member's tier at last Sunday and this Sunday, flows sized by members (the value models "
        "could not be fitted on this data). Caveat: Platinum and Gold are 1% and 4% of members, so their flows are thin.",
        "zh": "方法：每位会员上周日与本周日的层级，流量按人数计（此数据无法拟合价值模型）。"
        "注意：白金层与黄金层仅占会员 1% 和 4%，其流量较细。",
    },
    "report.note.risk": {
        "en": "Method: churn probability of each active member times the value they would bring if retained "
        "(retention.at_risk); the top members by value at risk. Caveat: a score, not a certainty; contact the "
        "members through the Value page, where personal data follow the viewer's role.",
        "zh": "方法：每位活跃会员的流失概率乘以其留存后的价值（retention.at_risk），按风险价值排名。"
        "注意：这是评分而非定论；请在价值页面联系会员，个人信息按查看者角色显示。",
    },
    "report.note.complaints": {
        "en": "Method: complaints filed and resolved during the week; overdue = still open at week end after more "
        "than the slow-resolution threshold. Caveat: each complaint stands for ~20 members who feel the same.",
        "zh": "方法：本周新增与解决的投诉；逾期 = 周末仍未解决且已超过慢处理阈值。注意：每一件投诉约代表 20 位有同感的会员。",
    },
    "report.note.satisfaction": {
        "en": "Method: 0–100 index of the 7-level survey answers in the 365 days up to each Sunday, per dimension and "
        "with the saved weights. Caveat: a rolling year changes little from week to week; look at the trend.",
        "zh": "方法：截至每个周日 365 天内 7 级问卷答案的 0–100 指数，按维度及已保存权重计算。注意：滚动一年的指数周变化很小，应看趋势。",
    },
    "report.note.care": {
        "en": "Method: cost of the care actions recorded in the week, by tier at week end, against the saved care "
        "plan's annual cost per member × members × 7/365. Caveat: actions are seasonal (birthdays, holidays), so a "
        "single week above or below plan is normal.",
        "zh": "方法：本周记录的关怀措施成本，按周末层级汇总，对比已保存关怀计划的人均年成本 × 会员数 × 7/365。"
        "注意：关怀具有季节性（生日、节日），单周高于或低于计划属正常。",
    },
    "report.note.no_plan": {"en": "No care plan is saved yet: only the spend is shown.", "zh": "尚未保存关怀计划：仅显示支出。"},
    # Highlight sentences, filled only from Highlight.values.
    "report.hl.kpi_change.up": {
        "en": "{kpi} rose to {value} ({change} on last week's {previous}).",
        "zh": "{kpi}升至 {value}（上周 {previous}，变化 {change}）。",
    },
    "report.hl.kpi_change.down": {
        "en": "{kpi} fell to {value} ({change} on last week's {previous}).",
        "zh": "{kpi}降至 {value}（上周 {previous}，变化 {change}）。",
    },
    "report.hl.tier_down": {
        "en": "{members} {tier} members moved down or left the pyramid, taking {value} of lifetime value "
        "(open complaints among them: {complaints}).",
        "zh": "{tier}有 {members} 位会员降级或离开金字塔，带走终身价值 {value}；其中 {complaints} 位有未解决的投诉。",
    },
    "report.hl.tier_down.no_value": {
        "en": "{members} {tier} members moved down or left the pyramid (open complaints among them: {complaints}).",
        "zh": "{tier}有 {members} 位会员降级或离开金字塔；其中 {complaints} 位有未解决的投诉。",
    },
    "report.hl.new_platinum": {
        "en": "{members} members rose into {tier}, worth {value} of lifetime value.",
        "zh": "{members} 位会员升入{tier}，终身价值共 {value}。",
    },
    "report.hl.new_platinum.no_value": {"en": "{members} members rose into {tier}.", "zh": "{members} 位会员升入{tier}。"},
    "report.hl.value_at_risk": {
        "en": "{value} of future value is at risk of churn; the top {top} members alone hold {top_value}.",
        "zh": "共有 {value} 的未来价值面临流失风险；仅前 {top} 位会员就占 {top_value}。",
    },
    "report.hl.complaints_change.up": {
        "en": "{measure} complaints: {value}, up {change} on last week ({previous}).",
        "zh": "{measure}投诉 {value} 件，较上周（{previous}）增加 {change}。",
    },
    "report.hl.complaints_change.down": {
        "en": "{measure} complaints: {value}, down {change} on last week ({previous}).",
        "zh": "{measure}投诉 {value} 件，较上周（{previous}）减少 {change}。",
    },
    "report.hl.satisfaction_change.up": {
        "en": "Satisfaction with {dimension} rose to {score} ({change}).",
        "zh": "{dimension}满意度升至 {score}（{change}）。",
    },
    "report.hl.satisfaction_change.down": {
        "en": "Satisfaction with {dimension} fell to {score} ({change}).",
        "zh": "{dimension}满意度降至 {score}（{change}）。",
    },
    "report.hl.care_vs_plan.up": {
        "en": "Care spend on {tier} was {spend}, {difference} above plan ({plan}).",
        "zh": "{tier}关怀支出 {spend}，高于计划（{plan}）{difference}。",
    },
    "report.hl.care_vs_plan.down": {
        "en": "Care spend on {tier} was {spend}, {difference} below plan ({plan}).",
        "zh": "{tier}关怀支出 {spend}，低于计划（{plan}）{difference}。",
    },
    # Workbook sheets and their columns.
    "report.sheet.at_risk": {"en": "At-risk members", "zh": "流失风险会员"},
    "report.sheet.downgrades": {"en": "Tier moves down", "zh": "降级会员"},
    "report.sheet.new_platinum": {"en": "New Platinum", "zh": "新晋白金"},
    "report.sheet.overdue": {"en": "Complaints overdue", "zh": "逾期投诉"},
    "report.col.member_id": {"en": "Member", "zh": "会员号"},
    "report.col.name": {"en": "Name", "zh": "姓名"},
    "report.col.phone": {"en": "Phone", "zh": "电话"},
    "report.col.tier": {"en": "Tier", "zh": "层级"},
    "report.col.churn_probability": {"en": "Churn probability", "zh": "流失概率"},
    "report.col.value_if_retained": {"en": "Value if retained (¥)", "zh": "留存价值（¥）"},
    "report.col.value_at_risk": {"en": "Value at risk (¥)", "zh": "风险价值（¥）"},
    "report.col.reason_primary": {"en": "Main reason", "zh": "主要原因"},
    "report.col.action": {"en": "Recommended action", "zh": "建议措施"},
    "report.col.from_tier": {"en": "From", "zh": "原层级"},
    "report.col.to_tier": {"en": "To", "zh": "现层级"},
    "report.col.from_state": {"en": "From", "zh": "原层级"},
    "report.col.value_lost": {"en": "Lifetime value (¥)", "zh": "终身价值（¥）"},
    "report.col.value": {"en": "Lifetime value (¥)", "zh": "终身价值（¥）"},
    "report.col.profit_previous_week": {"en": "Profit, year to last week (¥)", "zh": "截至上周年度利润（¥）"},
    "report.col.profit": {"en": "Profit, year to this week (¥)", "zh": "截至本周年度利润（¥）"},
    "report.col.open_complaint": {"en": "Open complaint", "zh": "有未结投诉"},
    "report.col.complaint_id": {"en": "Complaint", "zh": "投诉号"},
    "report.col.opened": {"en": "Filed on", "zh": "投诉日期"},
    "report.col.type": {"en": "Type", "zh": "类型"},
    "report.col.severity": {"en": "Severity", "zh": "严重程度"},
    "report.col.days_open": {"en": "Days open", "zh": "未结天数"},
    "report.yes": {"en": "yes", "zh": "是"},
    "report.no": {"en": "no", "zh": "否"},
    # The Report page.
    "report.intro": {
        "en": "The meeting pack of one week: a PowerPoint deck, a self-contained HTML page with the interactive "
        "charts, a PDF and an Excel workbook with the lists behind the charts (personal data as your role may see "
        "them). The same pack comes from `python -m vipmodel report --week {week} --lang {code} --out DIR`.",
        "zh": "某一周的例会资料：PowerPoint 演示文稿、含交互图表的独立 HTML 页面、PDF，以及包含图表背后名单的 Excel "
        "工作簿（个人信息按您的角色显示）。命令行 `python -m vipmodel report --week {week} --lang {code} --out 目录` "
        "生成同样的资料。",
    },
    "report.week": {"en": "Week", "zh": "周"},
    "report.language": {"en": "Language of the pack", "zh": "资料语言"},
    "report.build": {"en": "Build the meeting pack", "zh": "生成例会资料"},
    "report.no_weeks": {"en": "The database has no transactions, so there is no week to report.", "zh": "数据库中没有交易，无周可报告。"},
    "report.no_data": {"en": "No report for this week: {reason}", "zh": "该周无法生成报告：{reason}"},
    "report.failed": {"en": "The pack could not be built: {reason}", "zh": "无法生成例会资料：{reason}"},
    "report.step.summary": {"en": "Computing the week's figures (value models: about half a minute)…", "zh": "正在计算本周数据（价值模型约需半分钟）…"},
    "report.step.charts": {"en": "Drawing the charts…", "zh": "正在绘制图表…"},
    "report.step.images": {"en": "Exporting the chart images…", "zh": "正在导出图表图片…"},
    "report.step.pptx": {"en": "Writing the deck…", "zh": "正在生成演示文稿…"},
    "report.step.html": {"en": "Writing the HTML page…", "zh": "正在生成 HTML 页面…"},
    "report.step.pdf": {"en": "Writing the PDF…", "zh": "正在生成 PDF…"},
    "report.step.xlsx": {"en": "Writing the workbook…", "zh": "正在生成工作簿…"},
    "report.step.done": {"en": "Done.", "zh": "完成。"},
    "report.ready": {"en": "The pack of week {week} is ready ({seconds} s).", "zh": "{week} 周的例会资料已生成（{seconds} 秒）。"},
    "report.no_images": {
        "en": "The deck and the PDF need chart images, and no browser is available to draw them ({reason}). The HTML "
        "page and the workbook were built; install Chromium (`apt-get install chromium`) for the rest.",
        "zh": "演示文稿和 PDF 需要图表图片，但没有可用的浏览器来绘制（{reason}）。HTML 页面和工作簿已生成；"
        "安装 Chromium（`apt-get install chromium`）后可生成其余部分。",
    },
    "report.download.pptx": {"en": "Deck (PowerPoint)", "zh": "演示文稿（PowerPoint）"},
    "report.download.html": {"en": "Interactive page (HTML)", "zh": "交互页面（HTML）"},
    "report.download.pdf": {"en": "PDF", "zh": "PDF"},
    "report.download.xlsx": {"en": "Lists (Excel)", "zh": "名单（Excel）"},
    "report.masked_for": {
        "en": "Personal data in the workbook are shown as the role {role} may see them.",
        "zh": "工作簿中的个人信息按 {role} 角色的权限显示。",
    },
}
