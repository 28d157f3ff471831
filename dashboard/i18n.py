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
