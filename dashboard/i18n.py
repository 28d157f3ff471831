"""Every visible string, in English and Chinese, and locale-aware number and date formatting."""

from __future__ import annotations

import datetime as dt
import math

LANGUAGES: dict[str, str] = {"en": "English", "zh": "中文"}
DEFAULT_LANGUAGE = "en"

TIER_NAMES: dict[str, dict[str, str]] = {
    "A": {"en": "A Platinum", "zh": "A 白金层"},
    "B": {"en": "B Gold", "zh": "B 黄金层"},
    "C": {"en": "C Iron", "zh": "C 钢铁层"},
    "D": {"en": "D Lead", "zh": "D 重铅层"},
}

TEXT: dict[str, dict[str, str]] = {
    "app.title": {"en": "VIP customer management", "zh": "VIP 客户管理"},
    "nav.executive": {"en": "Executive", "zh": "管理层"},
    "page.overview": {"en": "Overview", "zh": "总览"},
    "sidebar.language": {"en": "Language", "zh": "语言"},
    "sidebar.period": {"en": "Period", "zh": "期间"},
    "sidebar.period_help": {
        "en": "KPIs are computed as of the last day of the period and compared with one week earlier.",
        "zh": "指标按期间最后一天计算，并与前一周比较。",
    },
    "sidebar.data_as_of": {"en": "Data up to {date} · {members} members", "zh": "数据截至 {date} · 会员 {members} 人"},
    "sidebar.database": {"en": "Database: {name}", "zh": "数据库：{name}"},
    "setup.generating": {
        "en": "First start: generating the demo mall ({members} members). This takes a few seconds…",
        "zh": "首次启动：正在生成演示商场数据（{members} 位会员），请稍候…",
    },
    "setup.empty": {
        "en": "The database has no members yet. Import your exports with "
        "`python -m vipmodel import FILE --kind members` (then transactions, complaints, surveys, care), "
        "or fill it with the demo mall: `python -m vipmodel demo --url <your database URL>`.",
        "zh": "数据库中还没有会员。请用 `python -m vipmodel import 文件 --kind members` 导入数据"
        "（再导入交易、投诉、问卷、关怀），或生成演示数据：`python -m vipmodel demo --url <数据库地址>`。",
    },
    "error.database": {
        "en": "Cannot open the database {name}: {reason}",
        "zh": "无法打开数据库 {name}：{reason}",
    },
    "overview.title": {"en": "Overview", "zh": "总览"},
    "overview.caption": {
        "en": "As of {date}, change against the previous week ({previous}).",
        "zh": "截至 {date}，与前一周（{previous}）相比。",
    },
    "overview.no_data": {
        "en": "No transactions on or before {date}: choose a later period in the sidebar.",
        "zh": "{date} 之前没有交易记录：请在侧栏选择更晚的期间。",
    },
    "kpi.active_members": {"en": "Active VIPs (12 months)", "zh": "活跃 VIP（近12个月）"},
    "kpi.sales_week": {"en": "Sales this week", "zh": "本周销售额"},
    "kpi.top20_share": {"en": "Sales share of top 20%", "zh": "前 20% 会员销售占比"},
    "kpi.churn_rate": {"en": "Annual churn rate", "zh": "年流失率"},
    "kpi.complaints_week": {"en": "Complaints this week", "zh": "本周投诉"},
    "kpi.satisfaction_index": {"en": "Satisfaction index", "zh": "满意度指数"},
    "kpi.help.active_members": {
        "en": "Members with at least one purchase in the 365 days up to the date.",
        "zh": "截至当日 365 天内至少消费一次的会员。",
    },
    "kpi.help.sales_week": {"en": "Net sales (returns subtracted) in the last 7 days.", "zh": "近 7 天净销售额（已扣除退货）。"},
    "kpi.help.top20_share": {
        "en": "Share of 12-month sales from the 20% of active members who spend most (reference: 80%).",
        "zh": "消费最高的 20% 活跃会员贡献的近12个月销售额占比（参考值 80%）。",
    },
    "kpi.help.churn_rate": {
        "en": "Members active in the previous year with no purchase in the last 365 days (retail reference: 30%).",
        "zh": "上一年活跃、近 365 天未消费的会员占比（零售业参考值 30%）。",
    },
    "kpi.help.complaints_week": {"en": "Complaints filed in the last 7 days.", "zh": "近 7 天收到的投诉。"},
    "kpi.help.satisfaction_index": {
        "en": "Mean survey score of the last 12 months on 0–100 (equal weights for product, service, image).",
        "zh": "近12个月问卷平均分，换算为 0–100（产品、服务、形象权重相同）。",
    },
    "kpi.reference": {"en": "reference {value}", "zh": "参考值 {value}"},
    "overview.trend": {"en": "Last 26 weeks", "zh": "近 26 周"},
    "trend.sales": {"en": "Net sales per week", "zh": "每周净销售额"},
    "trend.buyers": {"en": "Buying members per week", "zh": "每周消费会员数"},
    "trend.complaints": {"en": "Complaints per week", "zh": "每周投诉数"},
    "trend.week_end": {"en": "Week ending", "zh": "周末日期"},
    "common.not_available": {"en": "n/a", "zh": "无数据"},
    "common.download_csv": {"en": "Download table (CSV)", "zh": "下载表格（CSV）"},
    "common.tier": {"en": "Tier", "zh": "层级"},
    "common.loading": {"en": "Loading…", "zh": "加载中…"},
    "nav.marketing": {"en": "Marketing", "zh": "营销"},
    "page.pyramid": {"en": "Customer pyramid", "zh": "顾客金字塔"},
    "page.migration": {"en": "Tier migration", "zh": "层级迁移"},
    "pyramid.rules_in_force": {"en": "Tier rules in force: version {version}.", "zh": "当前层级规则：版本 {version}。"},
    "pyramid.default_rules": {"en": "default 1% / 4% / 15% / 80%", "zh": "默认 1% / 4% / 15% / 80%"},
    "pyramid.chart_title": {"en": "Members per tier", "zh": "各层会员数"},
    "pyramid.shares_title": {"en": "Share of members, sales and profit", "zh": "会员、销售与利润占比"},
    "pyramid.sales": {"en": "sales", "zh": "销售"},
    "pyramid.profit": {"en": "profit", "zh": "利润"},
    "pyramid.members": {"en": "Members", "zh": "会员数"},
    "pyramid.member_share": {"en": "Share of members", "zh": "会员占比"},
    "pyramid.sales_share": {"en": "Share of sales", "zh": "销售占比"},
    "pyramid.profit_share": {"en": "Share of profit", "zh": "利润占比"},
    "pyramid.avg_profit": {"en": "Profit per member", "zh": "人均利润贡献"},
    "pyramid.basis": {"en": "Tier by", "zh": "分层依据"},
    "pyramid.basis.share": {"en": "Share of members (ranked by profit)", "zh": "会员比例（按利润贡献排序）"},
    "pyramid.basis.profit": {"en": "Minimum profit contribution", "zh": "最低利润贡献"},
    "pyramid.basis.spend": {"en": "Minimum spend", "zh": "最低消费额"},
    "pyramid.share_of": {"en": "{tier}: share of members", "zh": "{tier}：会员比例"},
    "pyramid.minimum_for": {"en": "{tier}: minimum (¥ in the period)", "zh": "{tier}：最低值（期间内，¥）"},
    "pyramid.invalid_rules": {"en": "These thresholds cannot be applied: {reason}", "zh": "无法应用这些阈值：{reason}"},
    "pyramid.preview_title": {"en": "Preview new thresholds", "zh": "预览新阈值"},
    "pyramid.benefit_cost": {"en": "Benefit cost per member and tier (¥ per period)", "zh": "各层会员人均权益成本（¥/期）"},
    "pyramid.moved_up": {"en": "Would move up", "zh": "将升级"},
    "pyramid.moved_down": {"en": "Would move down", "zh": "将降级"},
    "pyramid.cost_change": {"en": "Benefit cost change", "zh": "权益成本变化"},
    "pyramid.sentence": {
        "en": "If these thresholds were applied, {up} members would move up and {down} down; the benefit cost changes by {cost}.",
        "zh": "如果采用这些阈值，将有 {up} 位会员升级、{down} 位降级；权益成本变化 {cost}。",
    },
    "pyramid.now": {"en": "Now", "zh": "当前"},
    "pyramid.proposed": {"en": "Proposed", "zh": "拟定"},
    "pyramid.before_after_title": {"en": "Members per tier: now and proposed", "zh": "各层会员数：当前与拟定"},
    "pyramid.who_moves": {"en": "Who moves", "zh": "变动的会员"},
    "pyramid.direction": {"en": "Direction", "zh": "方向"},
    "pyramid.direction.up": {"en": "Up", "zh": "升级"},
    "pyramid.direction.down": {"en": "Down", "zh": "降级"},
    "pyramid.author": {"en": "Your name", "zh": "您的姓名"},
    "pyramid.note": {"en": "Note (why)", "zh": "备注（原因）"},
    "pyramid.save": {"en": "Save as new version", "zh": "保存为新版本"},
    "pyramid.author_required": {"en": "Please enter your name: every version records its author.", "zh": "请输入姓名：每个版本都记录作者。"},
    "pyramid.saved": {"en": "Saved as version {version}.", "zh": "已保存为版本 {version}。"},
    "pyramid.history": {"en": "Version history", "zh": "版本历史"},
    "pyramid.no_history": {"en": "No saved versions yet: the default pyramid is in force.", "zh": "尚无保存的版本：使用默认金字塔。"},
    "pyramid.no_members": {"en": "No member bought anything in this period: choose another period in the sidebar.", "zh": "此期间没有会员消费：请在侧栏选择其他期间。"},
    "migration.state.new": {"en": "New", "zh": "新会员"},
    "migration.state.lost": {"en": "Lost", "zh": "流失"},
    "migration.granularity": {"en": "Compare periods by", "zh": "期间粒度"},
    "migration.granularity.year": {"en": "Year", "zh": "年"},
    "migration.granularity.quarter": {"en": "Quarter", "zh": "季度"},
    "migration.granularity.month": {"en": "Month", "zh": "月"},
    "migration.from_period": {"en": "From period", "zh": "起始期间"},
    "migration.to_period": {"en": "To period", "zh": "对比期间"},
    "migration.need_two_periods": {
        "en": "Migration needs purchases in at least two periods: choose a finer granularity or a later period.",
        "zh": "层级迁移至少需要两个期间的消费数据：请选择更细的粒度或更晚的期间。",
    },
    "migration.sankey_title": {"en": "Member flows {start} → {end}", "zh": "会员流动 {start} → {end}"},
    "migration.heatmap_title": {"en": "Transition rates (row = where members came from)", "zh": "迁移率（行 = 原层级）"},
    "migration.rates_title": {"en": "Retention, upgrades and downgrades per tier", "zh": "各层保留、升级与降级率"},
    "migration.members": {"en": "Members", "zh": "会员数"},
    "migration.retained_same_tier": {"en": "Stayed in tier", "zh": "保持本层"},
    "migration.upgraded": {"en": "Upgraded", "zh": "升级"},
    "migration.downgraded": {"en": "Downgraded", "zh": "降级"},
    "migration.lost": {"en": "Lost", "zh": "流失"},
    "migration.projection_title": {"en": "Where the pyramid is heading", "zh": "金字塔走势预测"},
    "migration.steps": {"en": "Periods ahead", "zh": "预测期数"},
    "migration.step": {"en": "Periods ahead", "zh": "期数"},
    "migration.projection_chart": {"en": "Projected members per tier", "zh": "各层会员数预测"},
    "migration.assumption": {
        "en": "Assumption: a time-homogeneous Markov chain (Pfeifer & Carraway 2000). Every period, members stay, "
        "move or leave at exactly the rates observed between the two chosen periods; new members arrive in the same "
        "number and tier mix as observed; lost members do not come back. Expected counts, without uncertainty.",
        "zh": "假设：时间齐次马尔可夫链（Pfeifer & Carraway 2000）。每一期会员按所选两期之间观察到的比率保持、迁移或流失；"
        "新会员按观察到的数量和层级结构加入；流失会员不再回来。结果为期望人数，不含不确定性区间。",
    },
    "migration.members_title": {"en": "Members behind a flow", "zh": "流动背后的会员"},
    "migration.from_state": {"en": "From", "zh": "从"},
    "migration.to_state": {"en": "To", "zh": "到"},
    "migration.members_count": {"en": "{n} members", "zh": "{n} 位会员"},

}


def t(key: str, lang: str = DEFAULT_LANGUAGE, **values: object) -> str:
    """The text for ``key`` in ``lang`` with ``{placeholders}`` filled; the key itself if it is missing."""
    entry = TEXT.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry[DEFAULT_LANGUAGE]
    return text.format(**values) if values else text


def tier_name(tier: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """Display name of a tier code (A–D)."""
    return TIER_NAMES.get(tier, {}).get(lang, tier)


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_number(value: float | None, lang: str = DEFAULT_LANGUAGE, decimals: int = 0) -> str:
    """A number with thousands separators; in Chinese large values use 万 and 亿 as readers expect."""
    if _missing(value):
        return t("common.not_available", lang)
    if lang == "zh" and abs(value) >= 1e8:
        return f"{value / 1e8:,.2f}亿"
    if lang == "zh" and abs(value) >= 1e4:
        return f"{value / 1e4:,.1f}万"
    return f"{value:,.{decimals}f}"


def fmt_money(value: float | None, lang: str = DEFAULT_LANGUAGE, currency: str = "¥") -> str:
    """A money amount with the currency symbol (¥ unless configured otherwise)."""
    if _missing(value):
        return t("common.not_available", lang)
    sign = "-" if value < 0 else ""
    return f"{sign}{currency}{fmt_number(abs(value), lang)}"


def fmt_percent(value: float | None, lang: str = DEFAULT_LANGUAGE, decimals: int = 1) -> str:
    """A share (0.25) as a percentage (25.0%)."""
    if _missing(value):
        return t("common.not_available", lang)
    return f"{value * 100:.{decimals}f}%"


def fmt_date(value: dt.date | None, lang: str = DEFAULT_LANGUAGE) -> str:
    """A date as 23 Nov 2026 (English) or 2026年11月23日 (Chinese)."""
    if value is None:
        return t("common.not_available", lang)
    if lang == "zh":
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value.day} {value:%b %Y}"

# --- Data page -------------------------------------------------------------------------------------------------
TEXT.update(
    {
        "nav.data": {"en": "Data", "zh": "数据"},
        "page.data": {"en": "Data", "zh": "数据管理"},
        "data.members": {"en": "Members", "zh": "会员数"},
        "data.latest": {"en": "Latest transaction", "zh": "最新交易"},
        "data.version": {"en": "Data version", "zh": "数据版本"},
        "data.kind.members": {"en": "Members", "zh": "会员"},
        "data.kind.transactions": {"en": "Transactions", "zh": "交易"},
        "data.kind.complaints": {"en": "Complaints", "zh": "投诉"},
        "data.kind.surveys": {"en": "Satisfaction surveys", "zh": "满意度问卷"},
        "data.kind.care": {"en": "Care actions", "zh": "客户关怀"},
        "data.import_title": {"en": "Import an export", "zh": "导入数据"},
        "data.kind": {"en": "What the file holds", "zh": "文件内容"},
        "data.file": {"en": "CSV or Excel file (UTF-8 or GBK)", "zh": "CSV 或 Excel 文件（UTF-8 或 GBK）"},
        "data.partial": {
            "en": "Write the valid rows even if some are rejected (rejects are offered for download)",
            "zh": "即使部分行被拒绝也写入有效行（被拒绝的行可下载）",
        },
        "data.create_members": {
            "en": "Create members that the file mentions but the database does not know",
            "zh": "为文件中出现但数据库中没有的会员建立档案",
        },
        "data.advanced": {"en": "Column names and headerless files", "zh": "列名与无表头文件"},
        "data.columns": {
            "en": "Column names for a file without header, comma separated (_ skips a column)",
            "zh": "无表头文件的列名，用逗号分隔（_ 表示跳过该列）",
        },
        "data.import": {"en": "Import", "zh": "导入"},
        "data.importing": {"en": "Importing {name}…", "zh": "正在导入 {name}…"},
        "data.rows_done": {"en": "{n} rows checked", "zh": "已检查 {n} 行"},
        "data.import_ok": {
            "en": "Imported: {written} rows written, {present} already present.",
            "zh": "导入成功：写入 {written} 行，{present} 行已存在。",
        },
        "data.import_partial": {
            "en": "{written} valid rows written; {rejected} problems in the rows below were left out.",
            "zh": "已写入 {written} 行有效数据；下列 {rejected} 个问题所在的行未写入。",
        },
        "data.import_rejected": {
            "en": "{name} was not imported: {n} problems (nothing was written). Fix them and import again.",
            "zh": "{name} 未导入：发现 {n} 个问题（未写入任何数据）。请修正后重新导入。",
        },
        "data.download_rejects": {"en": "Download rejected rows (CSV)", "zh": "下载被拒绝的行（CSV）"},
        "data.demo_title": {"en": "Demo mall", "zh": "演示商场"},
        "data.demo_not_default": {
            "en": "This is not the embedded demo database, so it cannot be regenerated from here.",
            "zh": "当前不是内置演示数据库，无法在此重新生成。",
        },
        "data.demo_members": {"en": "Members at the start", "zh": "初始会员数"},
        "data.demo_confirm": {
            "en": "I understand that this replaces everything in the demo database",
            "zh": "我了解这会替换演示数据库中的全部数据",
        },
        "data.demo_button": {"en": "Regenerate the demo mall", "zh": "重新生成演示商场"},
        "data.demo_running": {"en": "Generating…", "zh": "正在生成…"},
        "data.demo_done": {"en": "The demo mall was regenerated.", "zh": "演示商场已重新生成。"},
    }
)

# --- Shell: presentation mode, overview pyramid ------------------------------------------------------------------
TEXT.update(
    {
        "sidebar.presentation": {"en": "Presentation mode", "zh": "演示模式"},
        "sidebar.presentation_help": {
            "en": "For the weekly meeting: bigger charts and text, controls hidden. The link keeps the mode.",
            "zh": "周例会使用：放大图表与文字并隐藏控件。链接会保留此模式。",
        },
        "sidebar.exit_presentation": {"en": "Exit presentation mode", "zh": "退出演示模式"},
        "overview.pyramid": {"en": "The pyramid (last 12 months)", "zh": "顾客金字塔（近12个月）"},
    }
)

# --- Pyramid table columns ---------------------------------------------------------------------------------------
TEXT.update(
    {
        "pyramid.col.members": {"en": "Members", "zh": "会员数"},
        "pyramid.col.member_share": {"en": "Share of members", "zh": "会员占比"},
        "pyramid.col.sales": {"en": "Sales (¥)", "zh": "销售额（¥）"},
        "pyramid.col.sales_share": {"en": "Share of sales", "zh": "销售占比"},
        "pyramid.col.profit": {"en": "Profit contribution (¥)", "zh": "利润贡献（¥）"},
        "pyramid.col.profit_share": {"en": "Share of profit", "zh": "利润占比"},
        "pyramid.col.avg_profit": {"en": "Profit per member (¥)", "zh": "人均利润贡献（¥）"},
    }
)

# --- Referrals page ------------------------------------------------------------------------------------------------
TEXT.update(
    {
        "page.referrals": {"en": "Referrals", "zh": "转介绍"},
        "ref.group_by": {"en": "Group referral rates by", "zh": "转介绍率分组方式"},
        "ref.group_by.tier": {"en": "Tier", "zh": "层级"},
        "ref.group_by.satisfaction": {"en": "Satisfaction", "zh": "满意度"},
        "ref.kpi.referrals": {"en": "Referrals in the period", "zh": "期间内转介绍人数"},
        "ref.kpi.referrals_help": {
            "en": "New members who joined in the sidebar period and were referred by a member.",
            "zh": "侧栏所选期间内加入、由老会员推荐的新会员人数。",
        },
        "ref.kpi.rate": {"en": "Referrals per 100 members", "zh": "每百名会员转介绍数"},
        "ref.kpi.rate_help": {
            "en": "New members referred in the 12 months up to the period end, per 100 members who bought in "
            "those 12 months (documents: 100 satisfied customers bring 25 new customers).",
            "zh": "截至期末的12个月内，每百名有消费的会员推荐加入的新会员数（资料参考：100 位满意顾客带来 25 位新顾客）。",
        },
        "ref.kpi.share": {"en": "New members who were referred", "zh": "新会员中转介绍占比"},
        "ref.kpi.share_help": {
            "en": "Share of the members who joined in the period that came through a referral (95% interval {low} – {high}).",
            "zh": "期间内加入的新会员中通过转介绍加入的比例（95% 区间 {low} – {high}）。",
        },
        "ref.rates_title": {
            "en": "Referrals per 100 active members, 12 months to {date}",
            "zh": "每百名活跃会员的转介绍数（截至 {date} 的12个月）",
        },
        "ref.rate_axis": {"en": "Referrals per 100 members", "zh": "每百名会员转介绍数"},
        "ref.reference": {"en": "Documents: 25 per 100 satisfied", "zh": "资料参考：每百位满意顾客带来 25 位"},
        "ref.rates_caption": {
            "en": "Error bars: exact 95% Poisson interval. Satisfaction is the member's latest survey in the last two "
            "years (weighted mean on the 1–7 scale, with the saved satisfaction weights).",
            "zh": "误差线：精确泊松 95% 区间。满意度取会员近两年最近一次问卷（1–7 分加权平均，采用已保存的满意度权重）。",
        },
        "ref.bucket.below_4": {"en": "Below 4", "zh": "低于 4 分"},
        "ref.bucket.4_to_5": {"en": "4 to 5", "zh": "4–5 分"},
        "ref.bucket.5_to_6": {"en": "5 to 6", "zh": "5–6 分"},
        "ref.bucket.6_plus": {"en": "6 and above", "zh": "6 分及以上"},
        "ref.bucket.no_survey": {"en": "No survey", "zh": "未参与问卷"},
        "ref.all": {"en": "All", "zh": "全部"},
        "ref.col.group": {"en": "Group", "zh": "分组"},
        "ref.col.members": {"en": "Members", "zh": "会员数"},
        "ref.col.referrers": {"en": "Referrers", "zh": "推荐人数"},
        "ref.col.referrals": {"en": "Referrals", "zh": "转介绍数"},
        "ref.col.rate": {"en": "Per 100 members", "zh": "每百人"},
        "ref.col.interval": {"en": "95% interval", "zh": "95% 区间"},
        "ref.value_title": {"en": "Referred vs. other new members", "zh": "转介绍新会员与其他新会员对比"},
        "ref.value_caption": {
            "en": "Members who joined in the two years before the last 12 months and bought in their joining year. "
            "Churned: no purchase in the following year. Error bars: 95% intervals.",
            "zh": "最近12个月之前两年内加入、且加入当年有消费的会员。流失：次年无消费。误差线：95% 区间。",
        },
        "ref.group.referred": {"en": "Referred", "zh": "转介绍加入"},
        "ref.group.other": {"en": "Other new members", "zh": "其他新会员"},
        "ref.metric.mean_sales": {"en": "Sales, joining year", "zh": "加入当年消费额"},
        "ref.metric.mean_profit": {"en": "Profit contribution, joining year", "zh": "加入当年利润贡献"},
        "ref.metric.mean_next_sales": {"en": "Sales, following year", "zh": "次年消费额"},
        "ref.metric.churn_rate": {"en": "Churn rate, following year", "zh": "次年流失率"},
        "ref.money_title": {"en": "Average per new member", "zh": "新会员人均值"},
        "ref.churn_title": {"en": "Churn in the following year", "zh": "次年流失率"},
        "ref.col.churned": {"en": "Churned", "zh": "流失人数"},
        "ref.top_title": {"en": "Top referrers, {start} – {end}", "zh": "推荐最多的会员（{start} – {end}）"},
        "ref.show_names": {"en": "Show names (personal data)", "zh": "显示姓名（个人信息）"},
        "ref.col.member_id": {"en": "Member", "zh": "会员编号"},
        "ref.col.name": {"en": "Name", "zh": "姓名"},
        "ref.col.referred_buyers": {"en": "Referred who bought", "zh": "被推荐人中已消费"},
        "ref.col.referred_sales": {"en": "First-year sales of referred", "zh": "被推荐人首年消费额"},
        "ref.col.referred_profit": {"en": "First-year profit of referred", "zh": "被推荐人首年利润贡献"},
        "ref.col.satisfaction": {"en": "Satisfaction (1–7)", "zh": "满意度（1–7）"},
        "ref.no_active": {
            "en": "No member bought in the 12 months up to {date}: choose a later period in the sidebar.",
            "zh": "截至 {date} 的12个月内没有会员消费：请在侧栏选择更晚的期间。",
        },
        "ref.no_referrals": {
            "en": "Nobody joined through a referral between {start} and {end}. Referrals come from the "
            "\"referred by\" column of the member import.",
            "zh": "{start} 至 {end} 之间没有通过转介绍加入的会员。转介绍关系来自会员导入文件中的“推荐人”列。",
        },
        "ref.no_value": {
            "en": "Comparing referred and other new members needs two years of data before {date}.",
            "zh": "对比转介绍新会员与其他新会员需要 {date} 之前至少两年的数据。",
        },
    }
)

# --- Overview: more KPIs and year-over-year -----------------------------------------------------------------------
TEXT.update(
    {
        "kpi.active_share": {"en": "Active card share", "zh": "会员卡活跃率"},
        "kpi.help.active_share": {
            "en": "Active VIPs as a share of all members who had joined (the documents note low card usage).",
            "zh": "活跃 VIP 占全部已入会会员的比例（文件指出会员卡使用率低）。",
        },
        "kpi.referrals_week": {"en": "Referred new members this week", "zh": "本周转介绍新会员"},
        "kpi.help.referrals_week": {
            "en": "Members who joined in the last 7 days, referred by another member.",
            "zh": "近 7 天由其他会员推荐入会的新会员。",
        },
        "overview.vs_last_year": {"en": "vs. a year ago: {change}", "zh": "同比：{change}"},
    }
)

# --- Complaints & churn page ---------------------------------------------------------------------------------------
TEXT.update(
    {
        "page.complaints": {"en": "Complaints & churn", "zh": "投诉与流失"},
        "cpl.panel_caption": {
            "en": "{n} member-years from {start} to {end} ({members} members who bought in a one-year window). "
            "Churned: no purchase in the year after the window.",
            "zh": "{start} 至 {end} 共 {n} 个会员年度样本（{members} 位在某一年度内有消费的会员）。流失：该年度之后一年内没有消费。",
        },
        "cpl.no_panel": {
            "en": "Relating complaints to churn needs three years of purchases up to {date} (behaviour in a year, then "
            "a following year to see who churned): choose a later period in the sidebar or import more history.",
            "zh": "分析投诉与流失需要截至 {date} 的三年消费数据（某一年的行为，加上其后一年观察是否流失）：请在侧栏选择更晚的期间或导入更多历史数据。",
        },
        "cpl.no_complaints": {
            "en": "No complaints were filed from {start} to {end}, so there is nothing to relate to churn. "
            "Complaints come from the complaint import on the Data page.",
            "zh": "{start} 至 {end} 期间没有投诉记录，无法分析投诉与流失的关系。投诉数据可在“数据管理”页面导入。",
        },
        "cpl.group_by": {"en": "Group members by", "zh": "会员分组方式"},
        "cpl.by.status": {"en": "Complaint status", "zh": "投诉处理状态"},
        "cpl.by.handling": {"en": "Handling speed", "zh": "处理速度"},
        "cpl.by.category": {"en": "Complaint category", "zh": "投诉类别"},
        "cpl.by.severity": {"en": "Severity", "zh": "严重程度"},
        "cpl.by.resolution_time": {"en": "Days to resolution", "zh": "解决用时"},
        "cpl.group.none": {"en": "No complaint", "zh": "无投诉"},
        "cpl.group.resolved": {"en": "Resolved only", "zh": "均已解决"},
        "cpl.group.unresolved": {"en": "Unresolved", "zh": "未解决"},
        "cpl.group.resolved_quick": {"en": "Resolved within {days} days", "zh": "{days} 天内解决"},
        "cpl.group.resolved_slow": {"en": "Resolved after more than {days} days", "zh": "超过 {days} 天才解决"},
        "cpl.group.product": {"en": "Product only", "zh": "仅产品投诉"},
        "cpl.group.service": {"en": "Service only", "zh": "仅服务投诉"},
        "cpl.group.both": {"en": "Product and service", "zh": "产品和服务投诉"},
        "cpl.group.minor": {"en": "Minor", "zh": "轻微"},
        "cpl.group.moderate": {"en": "Moderate", "zh": "一般"},
        "cpl.group.serious": {"en": "Serious", "zh": "严重"},
        "cpl.group.res_first": {"en": "Within {high} day(s)", "zh": "{high} 天内"},
        "cpl.group.res_between": {"en": "{low}–{high} days", "zh": "{low}–{high} 天"},
        "cpl.group.res_over": {"en": "More than {low} days", "zh": "超过 {low} 天"},
        "cpl.churn_title": {"en": "Churn rate by {by}", "zh": "按{by}划分的流失率"},
        "cpl.churn_axis": {"en": "Churn rate in the following year", "zh": "次年流失率"},
        "cpl.reference": {"en": "Retail average {value}", "zh": "零售业平均 {value}"},
        "cpl.bar_text": {"en": "n = {n}", "zh": "{n} 个"},
        "cpl.bars_caption": {
            "en": "Error bars: Wilson 95% interval. On the bars: member-years in the group. Dashed line: the average "
            "annual VIP churn in retail quoted in the documents.",
            "zh": "误差线：Wilson 95% 置信区间。柱内数字：该组会员年度数。虚线：资料中引用的零售业 VIP 年均流失率。",
        },
        "cpl.test.pearson_chi2": {
            "en": "Does churn differ between these groups? Pearson chi-square test: χ² = {stat}, {dof} degrees of "
            "freedom, p {p}, {n} member-years.",
            "zh": "各组流失率是否不同？皮尔逊卡方检验：χ² = {stat}，自由度 {dof}，p {p}，样本 {n} 个会员年度。",
        },
        "cpl.test.fisher_exact": {
            "en": "Does churn differ between these groups? Fisher's exact test (small groups): p {p}, {n} member-years.",
            "zh": "各组流失率是否不同？费希尔精确检验（组别较小）：p {p}，样本 {n} 个会员年度。",
        },
        "cpl.test.significant": {
            "en": "The difference is statistically significant (5% level).",
            "zh": "差异具有统计学意义（5% 水平）。",
        },
        "cpl.test.not_significant": {
            "en": "The difference is not statistically significant (5% level): it may be chance.",
            "zh": "差异无统计学意义（5% 水平）：可能只是偶然。",
        },
        "cpl.test.small_expected": {
            "en": "Some groups are small (an expected count below 5), so this p-value is only approximate.",
            "zh": "部分组别样本较少（期望频数低于 5），该 p 值仅为近似值。",
        },
        "cpl.test.unavailable": {"en": "No test: {reason}", "zh": "无法检验：{reason}"},
        "cpl.empty_groups": {"en": "No member-year in: {groups}.", "zh": "以下组别没有样本：{groups}。"},
        "cpl.effects_title": {"en": "What complaints do to churn", "zh": "投诉对流失的影响"},
        "complaints.effect.relative_risk": {
            "en": "Members with {group} churned {rr}× as often as members with {reference} ({level} CI {low}–{high}).",
            "zh": "有{group}的会员流失率是{reference}会员的 {rr} 倍（{level} 置信区间 {low}–{high}）。",
        },
        "complaints.effect.relative_risk.not_significant": {
            "en": "Members with {group} churned {rr}× as often as members with {reference} ({level} CI {low}–{high}) "
            "— not statistically significant.",
            "zh": "有{group}的会员流失率是{reference}会员的 {rr} 倍（{level} 置信区间 {low}–{high}），差异无统计学意义。",
        },
        "cpl.who.none": {"en": "no complaint", "zh": "无投诉"},
        "cpl.who.resolved_quick": {"en": "a {cat} complaint resolved within {days} days", "zh": "{days} 天内解决的{cat}投诉"},
        "cpl.who.resolved_slow": {
            "en": "a {cat} complaint resolved after more than {days} days",
            "zh": "超过 {days} 天才解决的{cat}投诉",
        },
        "cpl.who.unresolved": {"en": "an unresolved {cat} complaint", "zh": "未解决的{cat}投诉"},
        "cpl.cat.product": {"en": "product", "zh": "产品"},
        "cpl.cat.service": {"en": "service", "zh": "服务"},
        "cpl.kind": {"en": "{cat}, {status}", "zh": "{cat}·{status}"},
        "cpl.kind_cat.product": {"en": "Product", "zh": "产品"},
        "cpl.kind_cat.service": {"en": "Service", "zh": "服务"},
        "cpl.kind_status.resolved_quick": {"en": "resolved ≤ {days} days", "zh": "{days} 天内解决"},
        "cpl.kind_status.resolved_slow": {"en": "resolved > {days} days", "zh": "超过 {days} 天解决"},
        "cpl.kind_status.unresolved": {"en": "unresolved", "zh": "未解决"},
        "cpl.effects_caption": {
            "en": "Each kind of complaint (members may have other complaints too) against members without any "
            "complaint in the same year; strongest first. The interval is a 95% confidence interval of the "
            "relative risk: when it includes 1, the data cannot tell the effect from chance.",
            "zh": "每类投诉（会员可能同时有其他投诉）与同年无投诉会员比较，按影响从大到小排列。区间为相对风险的 95% 置信区间：若包含 1，则无法与偶然区分。",
        },
        "cpl.effects_missing": {"en": "No member-year had: {kinds}.", "zh": "没有会员年度出现：{kinds}。"},
        "cpl.forest_title": {
            "en": "Churn relative to members without complaint",
            "zh": "相对无投诉会员的流失风险",
        },
        "cpl.forest_axis": {"en": "Relative risk (log scale, 95% CI; 1 = no difference)", "zh": "相对风险（对数刻度，95% 置信区间；1 = 无差异）"},
        "cpl.reg_title": {"en": "Per complaint, other things equal", "zh": "在其他条件相同时，每次投诉的影响"},
        "cpl.reg_caption": {
            "en": "Logistic regression: odds ratio of churn per additional complaint of each kind, controlling for "
            "{controls}. {n} member-years, {churned} churned; McFadden pseudo-R² {r2}. Above 1 means more churn.",
            "zh": "逻辑回归：每多一次某类投诉，流失优势比的变化，控制变量：{controls}。样本 {n} 个会员年度，其中流失 {churned} 个；"
            "McFadden 伪 R² {r2}。大于 1 表示流失更多。",
        },
        "cpl.reg_caveat": {
            "en": "Members who complain are often less satisfied to begin with; the survey is too sparse to control "
            "for that, so these effects include some of that dissatisfaction.",
            "zh": "投诉的会员往往本来满意度就较低；问卷数据太少，无法控制满意度，因此这些影响中包含部分不满意本身的作用。",
        },
        "cpl.control.tier": {"en": "tier (reference: {tier})", "zh": "层级（基准：{tier}）"},
        "cpl.control.log_sales": {"en": "spend (log)", "zh": "消费额（对数）"},
        "cpl.control.log_care": {"en": "care spend (log)", "zh": "关怀支出（对数）"},
        "cpl.term.complaint": {"en": "{kind} (per complaint)", "zh": "{kind}（每次投诉）"},
        "cpl.term.tier": {"en": "{tier} vs. {reference}", "zh": "{tier}（相对{reference}）"},
        "cpl.term.log_sales": {"en": "Spend, log(1 + ¥)", "zh": "消费额，log(1 + 元)"},
        "cpl.term.log_care": {"en": "Care spend, log(1 + ¥/100)", "zh": "关怀支出，log(1 + 元/100)"},
        "cpl.col.term": {"en": "Term", "zh": "变量"},
        "cpl.col.odds_ratio": {"en": "Odds ratio", "zh": "优势比"},
        "cpl.col.interval": {"en": "95% interval", "zh": "95% 置信区间"},
        "cpl.col.p_value": {"en": "p-value", "zh": "p 值"},
        "cpl.reg_dropped": {"en": "Left out (no member-year had them): {kinds}.", "zh": "未纳入（没有样本）：{kinds}。"},
        "cpl.reg_unavailable": {"en": "The regression cannot be shown: {reason}", "zh": "无法显示回归结果：{reason}"},
        "cpl.err.too_few": {
            "en": "too few member-years for the model (no more rows than terms); choose a later period or import more data.",
            "zh": "会员年度样本太少（样本数不多于变量数）；请选择更晚的期间或导入更多数据。",
        },
        "cpl.err.one_outcome": {
            "en": "every member-year churned, or every one stayed: there is nothing to explain.",
            "zh": "所有会员年度都流失了，或都留存了：没有可解释的差异。",
        },
        "cpl.err.no_complainer": {"en": "no member-year has a complaint.", "zh": "没有会员年度有投诉。"},
        "cpl.err.not_estimated": {
            "en": "the model could not be estimated ({reason}).",
            "zh": "模型无法估计（{reason}）。数据太少或某类投诉的会员全部流失/全部留存时会出现这种情况。",
        },
        "cpl.corr_title": {
            "en": "Rank correlations (Spearman) of complaints with churn and value",
            "zh": "投诉与流失、价值的秩相关（Spearman）",
        },
        "cpl.corr_caption": {
            "en": "+1: always rise together; −1: one rises as the other falls; 0: unrelated. Over all member-years.",
            "zh": "+1：同升同降；−1：此升彼降；0：无关。基于全部会员年度样本。",
        },
        "cpl.corr_constant": {"en": "Left out (the same for everyone): {columns}.", "zh": "未纳入（所有样本取值相同）：{columns}。"},
        "cpl.feature.n_complaints": {"en": "Complaints", "zh": "投诉次数"},
        "cpl.feature.max_severity": {"en": "Worst severity", "zh": "最高严重程度"},
        "cpl.feature.churned": {"en": "Churned", "zh": "流失"},
        "cpl.feature.sales": {"en": "Spend", "zh": "消费额"},
        "cpl.feature.profit_contribution": {"en": "Profit contribution", "zh": "利润贡献"},
        "cpl.iceberg_title": {"en": "The complaint iceberg", "zh": "投诉冰山"},
        "cpl.iceberg_multiplier": {"en": "Dissatisfied members per complaint", "zh": "每起投诉代表的不满会员数"},
        "cpl.iceberg_help": {
            "en": "Everyone one complaint stands for, the complainer included. The mall plan says 20, the store "
            "article 25.",
            "zh": "一起投诉所代表的全部会员（含投诉者本人）。商场维护方案为 20，门店文章为 25。",
        },
        "cpl.preset.mall_plan": {"en": "Mall plan: {value}", "zh": "商场方案：{value}"},
        "cpl.preset.store_article": {"en": "Store article: {value}", "zh": "门店文章：{value}"},
        "cpl.metric.visible": {"en": "Complaints received", "zh": "收到的投诉"},
        "cpl.metric.silent": {"en": "Silent dissatisfied (estimate)", "zh": "沉默的不满会员（估计）"},
        "cpl.metric.total": {"en": "Dissatisfied in all (estimate)", "zh": "不满会员合计（估计）"},
        "cpl.iceberg_sentence": {
            "en": "The {visible} complaints received from {start} to {end} stand for about {total} dissatisfied "
            "members, {silent} of whom did not complain.",
            "zh": "{start} 至 {end} 收到的 {visible} 起投诉，代表约 {total} 位不满会员，其中约 {silent} 位没有投诉。",
        },
        "complaints.iceberg.multiplier": {
            "en": "Assumption: each complaint stands for {multiplier} members who feel the same. This is a rule of "
            "thumb quoted in the documents, not something measured in your data.",
            "zh": "假设：每一起投诉代表 {multiplier} 位有同样感受的会员。这是资料中引用的经验数字，并非由本商场数据测得。",
        },
        "complaints.iceberg.silent_share": {
            "en": "Assumption: {silent_share} of unhappy members don't complain (documents). This is quoted, not "
            "measured in your data.",
            "zh": "假设：{silent_share} 的不满顾客不会投诉（资料数据），并非由本商场数据测得。",
        },
        "cpl.iceberg_visible": {"en": "Complained (visible)", "zh": "已投诉（可见）"},
        "cpl.iceberg_silent": {"en": "Did not complain (silent)", "zh": "未投诉（沉默）"},
        "cpl.iceberg_axis": {"en": "Members", "zh": "会员数"},
        "cpl.iceberg_none": {
            "en": "No complaints were received from {start} to {end}: no iceberg to estimate.",
            "zh": "{start} 至 {end} 期间没有收到投诉：无法估计冰山。",
        },
    }
)
