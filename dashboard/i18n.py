"""Every visible string, in English and Chinese, and locale-aware number and date formatting."""

from __future__ import annotations

import datetime as dt
import math
import os

LANGUAGES: dict[str, str] = {"en": "English", "zh": "中文"}
DEFAULT_LANGUAGE = "en"
# The mall's currency symbol: ¥ unless VIPDASH_CURRENCY says otherwise (e.g. "HK$", "$", "€"). Texts are written
# with ¥ and shown with this symbol.
CURRENCY = os.environ.get("VIPDASH_CURRENCY", "").strip() or "¥"

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
    "pyramid.note": {"en": "Note (why)", "zh": "备注（原因）"},
    "pyramid.save": {"en": "Save as new version", "zh": "保存为新版本"},
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


def _merge_area_texts() -> None:
    """Add the strings of every module in dashboard/texts; a key defined twice is a mistake and stops the import."""
    import importlib
    import pkgutil

    from dashboard import texts

    for info in sorted(pkgutil.iter_modules(texts.__path__), key=lambda m: m.name):
        area = importlib.import_module(f"dashboard.texts.{info.name}")
        clash = sorted(set(area.TEXT) & set(TEXT))
        if clash:
            raise RuntimeError(f"dashboard/texts/{info.name}.py redefines {', '.join(clash)}")
        TEXT.update(area.TEXT)


def t(key: str, lang: str = DEFAULT_LANGUAGE, **values: object) -> str:
    """The text for ``key`` in ``lang`` with ``{placeholders}`` filled; the key itself if it is missing."""
    entry = TEXT.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry[DEFAULT_LANGUAGE]
    if CURRENCY != "¥":
        text = text.replace("¥", CURRENCY)
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


def fmt_money(value: float | None, lang: str = DEFAULT_LANGUAGE, currency: str | None = None) -> str:
    """A money amount with the currency symbol (:data:`CURRENCY` unless given)."""
    if _missing(value):
        return t("common.not_available", lang)
    sign = "-" if value < 0 else ""
    return f"{sign}{currency or CURRENCY}{fmt_number(abs(value), lang)}"


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
        "cpl.effects_title": {
            "en": "Churn of complainers and of members without complaint (not adjusted)",
            "zh": "投诉会员与无投诉会员的流失率比较（未调整）",
        },
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
            "complaint in the same year; largest first. The interval is a 95% confidence interval of the "
            "relative risk: when it includes 1, the data cannot tell the difference from chance. Nothing is "
            "adjusted for here: complainers are also less satisfied and would churn more anyway, so these ratios "
            "overstate what goes with the complaint itself (see the adjusted figures above).",
            "zh": "每类投诉（会员可能同时有其他投诉）与同年无投诉会员比较，按差异从大到小排列。区间为相对风险的 95% 置信区间：若包含 1，"
            "则无法与偶然区分。此处未做任何调整：投诉会员本来满意度就较低、本就更容易流失，因此这些比值高估了投诉本身相关的部分（调整后的数字见上方）。",
        },
        "cpl.effects_missing": {"en": "No member-year had: {kinds}.", "zh": "没有会员年度出现：{kinds}。"},
        "cpl.forest_title": {
            "en": "Churn relative to members without complaint",
            "zh": "相对无投诉会员的流失风险",
        },
        "cpl.forest_axis": {"en": "Relative risk (log scale, 95% CI; 1 = no difference)", "zh": "相对风险（对数刻度，95% 置信区间；1 = 无差异）"},
        "cpl.control.tier": {"en": "tier (reference: {tier})", "zh": "层级（基准：{tier}）"},
        "cpl.control.log_sales": {"en": "spend (log)", "zh": "消费额（对数）"},
        "cpl.control.log_care": {"en": "care spend (log)", "zh": "关怀支出（对数）"},
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

# --- Care what-if page -------------------------------------------------------------------------------------------
TEXT.update(
    {
        "page.care": {"en": "Care what-if", "zh": "关怀投入模拟"},
        "care.members_caption": {
            "en": "{n} members who bought in the 12 months to {date}, tiered with the rules in force. "
            "Value of a retained member: {value}.",
            "zh": "截至 {date} 的12个月内有消费的会员 {n} 人，按当前层级规则分层。保留一位会员的价值：{value}。",
        },
        "care.value.clv": {
            "en": "3-year lifetime value (BG/NBD + Gamma-Gamma, member's own margin, discounted 10% a year)",
            "zh": "3 年客户终身价值（BG/NBD + Gamma-Gamma，按会员自身毛利率，年折现率 10%）",
        },
        "care.value.proxy": {
            "en": "annual profit contribution × 3 years (a stand-in: the lifetime-value models cannot be fitted "
            "on this data)",
            "zh": "年利润贡献 × 3 年（替代值：此数据无法拟合终身价值模型）",
        },
        "care.method.ipw": {
            "en": "inverse-propensity weighting with regression adjustment",
            "zh": "逆倾向得分加权并结合回归调整",
        },
        "care.method.controls": {"en": "regression adjustment", "zh": "回归调整"},
        "care.model_caption": {
            "en": "Response model: within a tier, the log-odds of churn fall by β × log(1 + annual care ÷ ¥{c0}), so "
            "each extra yuan does less. Estimated on {rows} member-years by {method}: β = {beta} (95% interval "
            "{low} – {high}), c0 = ¥{c0} (95% interval ¥{c0_low} – ¥{c0_high}). Assumes that, beyond tier, sales, "
            "visits, complaints, home store, last year's sales and whether the member is new, nothing that drives "
            "churn also decides who gets care, and that a yuan of any action works alike.",
            "zh": "响应模型：同一层级内，流失的对数几率按 β × log(1 + 年关怀投入 ÷ ¥{c0}) 下降，投入越多边际效果越小。"
            "基于 {rows} 个会员年、采用{method}估计：β = {beta}（95% 区间 {low} – {high}），c0 = ¥{c0}"
            "（95% 区间 ¥{c0_low} – ¥{c0_high}）。假设除层级、消费、到店次数、"
            "投诉、所属门店、上一年消费及是否新会员外，没有其他同时影响流失与关怀分配的因素，且各类关怀每元效果相同。",
        },
        "care.no_members": {
            "en": "No member bought anything in the 12 months to {date}: choose a later period in the sidebar.",
            "zh": "截至 {date} 的12个月内没有会员消费：请在侧栏选择更晚的期间。",
        },
        "care.no_model": {
            "en": "The effect of care cannot be estimated from the history up to {date} ({reason}). It needs three "
            "years of purchases and care records up to the period end: choose a later period in the sidebar.",
            "zh": "无法根据截至 {date} 的历史数据估计关怀效果（{reason}）。需要期末之前三年的消费与关怀记录：请在侧栏选择更晚的期间。",
        },
        "care.plan_title": {"en": "Care plan", "zh": "客户营销维护计划"},
        "care.start": {"en": "Start from", "zh": "起始方案"},
        "care.start.saved": {"en": "Saved plan (version {version})", "zh": "已保存方案（版本 {version}）"},
        "care.start.history": {"en": "What the mall did in the last 12 months", "zh": "近12个月实际执行情况"},
        "care.editor_caption": {
            "en": "Times per member and year for each tier, and the cost of one action. Fractions are averages "
            "(0.5 = every second member).",
            "zh": "各层每位会员每年的次数，以及每次关怀的成本。小数表示平均值（0.5 = 每两位会员一次）。",
        },
        "care.action": {"en": "Care action", "zh": "关怀方式"},
        "care.unit_cost": {"en": "Cost per action (¥)", "zh": "单次成本（¥）"},
        "care.action.phone_greeting": {"en": "Phone greeting", "zh": "电话问候"},
        "care.action.birthday_gift": {"en": "Birthday gift", "zh": "生日礼品"},
        "care.action.holiday_card": {"en": "Holiday card", "zh": "节日贺卡"},
        "care.action.sms": {"en": "SMS", "zh": "短信"},
        "care.action.event_invitation": {"en": "Member event", "zh": "会员活动"},
        "care.action.lecture": {"en": "Lecture / health talk", "zh": "讲座 / 健康讲堂"},
        "care.scale": {"en": "Scale all frequencies", "zh": "整体调整频次"},
        "care.scale_help": {
            "en": "Multiplies every number of the table above, e.g. 50% halves the plan.",
            "zh": "将上表所有次数按比例调整，例如 50% 即减半。",
        },
        "care.cost_per_member": {"en": "Care cost per member and year: {costs}", "zh": "每位会员年关怀成本：{costs}"},
        "care.invalid_plan": {"en": "This plan cannot be simulated: {reason}", "zh": "无法模拟此方案：{reason}"},
        "care.results_title": {"en": "Edited plan against the current plan", "zh": "调整方案与当前方案对比"},
        "care.metric.spend": {"en": "Annual care spend", "zh": "年关怀投入"},
        "care.metric.retained_members": {"en": "Members retained", "zh": "预计保留会员"},
        "care.metric.retained_value": {"en": "Retained value", "zh": "保留价值"},
        "care.metric.roi": {"en": "Return on care", "zh": "关怀投资回报率"},
        "care.metric.vs_current": {"en": "Change against the current plan.", "zh": "与当前方案相比的变化。"},
        "care.metric.roi_help": {
            "en": "(value retained thanks to care − spend) ÷ spend; 5–95% band {low} – {high}.",
            "zh": "（因关怀多保留的价值 − 投入）÷ 投入；5–95% 区间 {low} – {high}。",
        },
        "care.col.members": {"en": "Members", "zh": "会员数"},
        "care.col.spend_per_member": {"en": "Spend per member (¥)", "zh": "人均投入（¥）"},
        "care.col.spend": {"en": "Spend (¥)", "zh": "投入（¥）"},
        "care.col.churn_rate": {"en": "Churn rate", "zh": "流失率"},
        "care.col.retained_members": {"en": "Members retained", "zh": "保留会员"},
        "care.col.retained_value": {"en": "Retained value (¥)", "zh": "保留价值（¥）"},
        "care.col.retained_value_p05": {"en": "Retained value, 5% (¥)", "zh": "保留价值 5% 分位（¥）"},
        "care.col.retained_value_p95": {"en": "Retained value, 95% (¥)", "zh": "保留价值 95% 分位（¥）"},
        "care.col.incremental_value": {"en": "Value kept by care (¥)", "zh": "关怀带来的保留价值（¥）"},
        "care.col.roi": {"en": "ROI", "zh": "投资回报率"},
        "care.col.break_even_spend_per_member": {"en": "Break-even spend per member (¥)", "zh": "人均盈亏平衡投入（¥）"},
        "care.col.spend_current": {"en": "Spend, current plan (¥)", "zh": "当前方案投入（¥）"},
        "care.col.retained_value_difference": {"en": "Retained value vs. current (¥)", "zh": "保留价值较当前（¥）"},
        "care.col.net_value_difference": {"en": "Net value vs. current (¥)", "zh": "净价值较当前（¥）"},
        "care.col.optimal_spend": {"en": "Optimiser spend (¥)", "zh": "优化方案投入（¥）"},
        "care.col.marginal_value_per_yuan": {"en": "Value of the last ¥1", "zh": "最后 ¥1 带来的价值"},
        "care.total": {"en": "Total", "zh": "合计"},
        "care.table_caption": {
            "en": "Break-even: the most care per member whose retained value still covers its cost. "
            "Net value = retained value − spend.",
            "zh": "盈亏平衡投入：保留价值仍能覆盖成本的最高人均关怀投入。净价值 = 保留价值 − 投入。",
        },
        "care.curve_title": {"en": "Retained value against annual care spend", "zh": "保留价值与年关怀投入"},
        "care.curve.expected": {"en": "Expected", "zh": "期望值"},
        "care.curve.band": {"en": "5–95% band", "zh": "5–95% 区间"},
        "care.curve.break_even": {"en": "Break-even line", "zh": "盈亏平衡线"},
        "care.curve.x": {"en": "Annual care spend (¥)", "zh": "年关怀投入（¥）"},
        "care.curve.y": {"en": "Retained value (¥)", "zh": "保留价值（¥）"},
        "care.curve_caption": {
            "en": "Each curve scales every frequency of the edited plan from 0 to 2×. Above the dashed line (value "
            "retained without care + spend) the care pays for itself. Bands: 5–95% over joint draws of β, c0 and the "
            "tier baselines, member value and which members stay. Shaded: beyond the care the history supports.",
            "zh": "每条曲线将调整方案的全部频次从 0 调整到 2 倍。曲线高于虚线（无关怀时的保留价值 + 投入）时，关怀投入物有所值。"
            "区间：β、c0 与层级基线的联合抽样、会员价值以及会员实际留存随机性的 5–95% 分位。"
            "阴影：超出历史数据支持的关怀水平。",
        },
        "care.plan.edited": {"en": "Edited plan", "zh": "调整方案"},
        "care.plan.current": {"en": "Current plan", "zh": "当前方案"},
        "care.plan.optimised": {"en": "Optimiser", "zh": "优化方案"},
        "care.optimiser_title": {"en": "Budget optimiser", "zh": "预算优化"},
        "care.budget": {"en": "Annual care budget (¥)", "zh": "年关怀预算（¥）"},
        "care.budget_help": {
            "en": "Starts at what the current plan costs in a year ({value}).",
            "zh": "默认为当前方案的年成本（{value}）。",
        },
        "care.net": {
            "en": "Only spend where it pays (maximise retained value minus spend)",
            "zh": "只在值得的地方投入（最大化保留价值减投入）",
        },
        "care.allocation_title": {"en": "Annual care spend per tier", "zh": "各层年关怀投入"},
        "care.spend_axis": {"en": "¥ per year", "zh": "¥ / 年"},
        "care.metric.optimised_value": {"en": "Retained value, optimiser", "zh": "优化方案保留价值"},
        "care.metric.optimised_spend": {"en": "Optimiser spend", "zh": "优化方案投入"},
        "care.alloc_caption": {
            "en": "The optimiser spends each yuan where it keeps most value, with the costs of the table above and at "
            "most {cap} per member and year, and no more than the history supports unless the range is widened. "
            "At the optimum the value of the last ¥1 is equal across tiers that get some care but not the most; below 1 the last yuan does not pay for itself.",
            "zh": "优化方案把每一元投入到保留价值最高的层级，采用上表的单次成本，每位会员每年最多 {cap}，"
            "且除非放宽范围，不超出历史数据支持的水平。"
            "最优时，获得部分关怀（未达上限）的各层最后 ¥1 带来的价值相等；低于 1 表示最后一元不划算。",
        },
        "care.alloc_actions": {"en": "Actions that spend the optimiser's allocation", "zh": "实现优化方案的关怀措施"},
        "care.save_title": {"en": "Save a plan", "zh": "保存方案"},
        "care.save_which": {"en": "Plan to save", "zh": "要保存的方案"},
        "care.save": {"en": "Save as new version", "zh": "保存为新版本"},
        "care.saved": {"en": "Care plan saved as version {version}.", "zh": "关怀方案已保存为版本 {version}。"},
        "care.history": {"en": "Saved care plans", "zh": "已保存的关怀方案"},
        "care.no_history": {"en": "No care plan saved yet.", "zh": "尚未保存关怀方案。"},
        "care.col.per_year": {"en": "Times per year", "zh": "每年次数"},
        "care.col.annual_cost_per_member": {"en": "Cost per member (¥)", "zh": "人均成本（¥）"},
    }
)

# --- Satisfaction page ---------------------------------------------------------------------------------------------
TEXT.update(
    {
        "page.satisfaction": {"en": "Satisfaction", "zh": "满意度"},
        "sat.dim.product_quality": {"en": "Product quality", "zh": "产品质量"},
        "sat.dim.sales_service": {"en": "Sales service", "zh": "销售服务"},
        "sat.dim.corporate_image": {"en": "Corporate image", "zh": "企业形象"},
        "sat.ci": {"en": "95% CI {low} – {high}", "zh": "95% 区间 {low} – {high}"},
        "sat.weights_title": {"en": "Weights of the three survey parts", "zh": "问卷三部分的权重"},
        "sat.weights_in_force": {"en": "Weights in force: version {version}.", "zh": "当前权重：版本 {version}。"},
        "sat.default_weights": {"en": "default, equal thirds", "zh": "默认，三部分各占三分之一"},
        "sat.reset": {"en": "Back to the weights in force", "zh": "恢复当前权重"},
        "sat.all_zero": {
            "en": "At least one slider must be above zero: the weights are the sliders' shares of their total.",
            "zh": "至少一个滑块须大于零：权重为各滑块占总和的比例。",
        },
        "sat.normalised": {"en": "Normalised weights (sum to 100%): ", "zh": "归一化权重（合计 100%）："},
        "sat.metric.index": {"en": "Satisfaction index (0–100)", "zh": "满意度指数（0–100）"},
        "sat.metric.index_help": {
            "en": "Mean weighted survey score of the {n} responses in the sidebar period, rescaled from the 1–7 "
            "scale to 0–100.",
            "zh": "侧栏期间内 {n} 份问卷的加权平均分，由 1–7 分换算为 0–100。",
        },
        "sat.metric.gap": {"en": "Experience − expectation", "zh": "体验 − 期望"},
        "sat.gap_help": {
            "en": "VIP satisfaction = experience − expectation, on the 1–7 scale. Below zero: expectations not met.",
            "zh": "VIP客户满意度 = 体验 − 期望（1–7 分）。低于零表示未达到期望。",
        },
        "sat.metric.auc": {"en": "AUC for churn", "zh": "流失预测 AUC"},
        "sat.auc_help": {
            "en": "How well a low index picks out the members who bought nothing in the following year. "
            "0.5 = no better than chance, 1 = every churner scored below every member who stayed.",
            "zh": "低满意度指数能多好地识别次年未消费（流失）的会员。0.5 = 与随机猜测无异，1 = 每位流失会员的指数都低于每位留存会员。",
        },
        "sat.vs_saved": {"en": "{delta} vs. weights in force", "zh": "较当前权重 {delta}"},
        "sat.metric.spearman": {"en": "Rank correlation with next-year sales", "zh": "与次年消费额的等级相关"},
        "sat.spearman_help": {
            "en": "Spearman's rho between the index and the member's sales in the following year (0 for churners). "
            "0 = no relation, 1 = the index orders members exactly as their next-year sales.",
            "zh": "指数与会员次年消费额（流失者为 0）的斯皮尔曼等级相关系数。0 = 无关，1 = 指数排序与次年消费额完全一致。",
        },
        "sat.eval.some": {
            "en": "With these weights, a member who churned had a lower index than one who stayed {auc} of the time "
            "(0.5 = no better than chance), on {n} surveyed member-years of which {churned} churned.",
            "zh": "采用这组权重时，流失会员的指数低于留存会员的概率为 {auc}（0.5 = 与随机猜测无异）；"
            "基于 {n} 个有问卷的会员年度，其中 {churned} 个流失。",
        },
        "sat.eval.chance": {
            "en": "With these weights the index does not tell churners from members who stay better than chance "
            "(AUC {auc}; 0.5 = chance), on {n} surveyed member-years of which {churned} churned.",
            "zh": "采用这组权重时，指数区分流失与留存会员的能力不比随机猜测好（AUC {auc}；0.5 = 随机）；"
            "基于 {n} 个有问卷的会员年度，其中 {churned} 个流失。",
        },
        "sat.insufficient": {
            "en": "The survey data cannot support this analysis yet: {reason}",
            "zh": "问卷数据尚不足以支持此分析：{reason}",
        },
        "sat.no_surveys": {
            "en": "Nobody answered a satisfaction survey in this period: choose another period in the sidebar or "
            "import survey responses on the Data page.",
            "zh": "此期间没有会员填写满意度问卷：请在侧栏选择其他期间，或在“数据管理”页导入问卷。",
        },
        "sat.index_title": {"en": "Satisfaction index by group", "zh": "分组满意度指数"},
        "sat.by": {"en": "Group by", "zh": "分组方式"},
        "sat.by.tier": {"en": "Tier", "zh": "层级"},
        "sat.by.store": {"en": "Home store", "zh": "所属门店"},
        "sat.by.month": {"en": "Month", "zh": "月"},
        "sat.by.quarter": {"en": "Quarter", "zh": "季度"},
        "sat.by.year": {"en": "Year", "zh": "年"},
        "sat.inactive": {"en": "No purchase", "zh": "期间内未消费"},
        "sat.unknown_store": {"en": "Store not recorded", "zh": "未登记门店"},
        "sat.index_chart": {"en": "Satisfaction index (95% CI)", "zh": "满意度指数（95% 区间）"},
        "sat.index_axis": {"en": "Index (0–100)", "zh": "指数（0–100）"},
        "sat.gap_chart": {"en": "Experience − expectation", "zh": "体验 − 期望"},
        "sat.gap_axis": {"en": "Points on the 1–7 scale", "zh": "1–7 分制差值"},
        "sat.index_caption": {
            "en": "Surveys dated in the sidebar period, with the slider weights; “No purchase”: respondents who bought "
            "nothing in the period. Error bars: 95% t-interval of the mean. Red gap bars: experience fell short of "
            "expectation.",
            "zh": "侧栏期间内的问卷，采用滑块权重；“期间内未消费”：期间内没有消费的受访者。误差线：均值的 95% t 区间。"
            "红色差值柱：体验低于期望。",
        },
        "sat.save": {"en": "Save these weights as a new version", "zh": "将此权重保存为新版本"},
        "sat.suggested_title": {"en": "Weights suggested by the data", "zh": "数据建议的权重"},
        "sat.in_force": {"en": "In force", "zh": "当前"},
        "sat.suggested": {"en": "Suggested", "zh": "建议"},
        "sat.suggested_chart": {
            "en": "Weights in force and suggested (bars: bootstrap 95% interval)",
            "zh": "当前权重与建议权重（误差线：自助法 95% 区间）",
        },
        "sat.gain.tiny": {
            "en": "On members the fit never saw, the suggested weights change the AUC by only {gain} (95% CI {low} to "
            "{high}, cross-fitted by member): too small to matter or not significant (likelihood-ratio test against "
            "the weights in force p = {p}). Keeping the weights in force costs little; the choice can rest on the "
            "brand's positioning.",
            "zh": "在未参与拟合的会员上，建议权重仅使 AUC 变化 {gain}（按会员交叉拟合，95% 区间 {low} 至 {high}）："
            "幅度太小或不显著（与当前权重的似然比检验 p = {p}）。保留当前权重损失很小，可按品牌定位决定。",
        },
        "sat.gain.real": {
            "en": "On members the fit never saw, the suggested weights explain churn better: AUC {gain} (95% CI {low} to "
            "{high}, cross-fitted by member; likelihood-ratio test against the weights in force p = {p}). Worth "
            "testing and discussing.",
            "zh": "在未参与拟合的会员上，建议权重能更好地解释流失：AUC {gain}（按会员交叉拟合，95% 区间 {low} 至 {high}；"
            "与当前权重的似然比检验 p = {p}）。值得测试与讨论。",
        },
        "sat.suggested_caption": {
            "en": "Logistic regression of next-year churn on the three part scores of {n} member-years ({members} "
            "members), holding sales, care spend and complaints fixed; each weight is the part's share of the "
            "satisfaction effect on retention. Intervals from {boot} bootstrap samples of whole members (a member's "
            "years are drawn together).",
            "zh": "基于 {n} 个会员年度（{members} 位会员），对次年流失与三部分得分做逻辑回归，并控制消费额、关怀费用与投诉；"
            "每个权重为该部分在满意度对留存影响中所占的份额。区间来自 {boot} 次按会员整体的自助抽样"
            "（同一会员的各年度一并抽取）。",
        },
        "sat.try_suggested": {"en": "Try the suggested weights", "zh": "试用建议权重"},
        "sat.fitting": {"en": "Fitting weights to churn…", "zh": "正在根据流失数据拟合权重…"},
        "sat.ipa_title": {"en": "Importance and performance", "zh": "重要性与表现"},
        "sat.ipa_chart": {"en": "Importance–performance quadrant", "zh": "重要性–表现四象限"},
        "sat.quadrant.keep_up": {"en": "Keep up the good work", "zh": "继续保持"},
        "sat.quadrant.concentrate_here": {"en": "Concentrate here", "zh": "重点改进"},
        "sat.quadrant.low_priority": {"en": "Low priority", "zh": "低优先级"},
        "sat.quadrant.possible_overkill": {"en": "Possible overkill", "zh": "可能过度"},
        "sat.col.dimension": {"en": "Survey part", "zh": "问卷部分"},
        "sat.col.performance": {"en": "Performance (mean score, 0–100)", "zh": "表现（平均分，0–100）"},
        "sat.col.importance": {"en": "Importance (suggested weight)", "zh": "重要性（建议权重）"},
        "sat.col.importance_low": {"en": "Importance, 95% low", "zh": "重要性 95% 下限"},
        "sat.col.importance_high": {"en": "Importance, 95% high", "zh": "重要性 95% 上限"},
        "sat.col.current_weight": {"en": "Weight in force", "zh": "当前权重"},
        "sat.col.quadrant": {"en": "Quadrant", "zh": "象限"},
        "sat.ipa_caption": {
            "en": "Importance–performance analysis (Martilla & James 1977). Dashed lines: the average weight (1/3) and "
            "the average performance of the three parts. Surveyed member-years of the two years before the "
            "period end.",
            "zh": "重要性–表现分析（Martilla & James 1977）。虚线：平均权重（1/3）与三部分的平均表现。"
            "数据为期末前两年有问卷的会员年度。",
        },
        "sat.loyalty_title": {"en": "Loyalty indicators", "zh": "忠诚度指标"},
        "sat.loyalty.purchase_rate": {"en": "Purchase rate (card holders who bought)", "zh": "购买率（有消费的持卡会员占比）"},
        "sat.loyalty.repeat_purchase_rate": {
            "en": "Repeat purchase rate (buyers on 2+ days)", "zh": "重复购买率（2 天及以上有消费的会员占比）"
        },
        "sat.loyalty.retention_rate": {
            "en": "Retention (previous-year buyers who bought again)", "zh": "传输速率（上年消费会员中再次消费的占比）"
        },
        "sat.loyalty.purchase_frequency": {"en": "Purchase days per buyer", "zh": "人均消费天数"},
        "sat.loyalty.share_of_wallet": {"en": "Share of wallet (survey, 0–100)", "zh": "预算比例（问卷，0–100）"},
        "sat.loyalty.brand_mix": {"en": "Preferred-brand spend ratio", "zh": "组合比"},
        "sat.col.indicator": {"en": "Indicator", "zh": "指标"},
        "sat.col.value": {"en": "Year to period end", "zh": "截至期末一年"},
        "sat.col.previous": {"en": "Year before", "zh": "上一年"},
        "sat.col.n": {"en": "Base (members)", "zh": "基数（会员）"},
        "sat.omitted": {"en": "Not shown – {name}: {reason}", "zh": "未显示 – {name}：{reason}"},
        "sat.omitted.share_of_wallet": {
            "en": "no survey item asks for it; add an item whose code or label contains \"wallet\" or \"预算\".",
            "zh": "问卷中没有相关题目；请添加代码或名称含 “wallet” 或 “预算” 的题目。",
        },
        "sat.omitted.brand_mix": {
            "en": "transactions record store and category but no brand.",
            "zh": "交易记录包含门店与品类，但没有品牌。",
        },
        "sat.no_history": {
            "en": "No saved versions yet: equal weights are in force.", "zh": "尚无保存的版本：使用相同权重。"
        },
    }
)

# --- Value & churn risk page ---------------------------------------------------------------------------------------
TEXT.update(
    {
        "page.value": {"en": "Value & churn risk", "zh": "价值与流失风险"},
        "value.caption": {
            "en": "As of {date} (end of the sidebar period); tiers by the rules in force ({rules}).",
            "zh": "截至 {date}（侧栏期间的最后一天）；层级采用当前规则（{rules}）。",
        },
        "value.no_values": {
            "en": "Lifetime values cannot be computed as of {date}: {reason}",
            "zh": "无法计算截至 {date} 的客户终身价值：{reason}",
        },
        "value.checking": {"en": "Checking the models on last year…", "zh": "正在用去年的数据检验模型…"},
        "value.kpi.total_clv": {"en": "Lifetime value (model), all members", "zh": "客户终身价值合计（模型）"},
        "value.kpi.total_clv_help": {
            "en": "Expected profit over the next {years} years, discounted at {rate} a year, of every member who ever "
            "bought (BG/NBD purchase model + Gamma-Gamma spend model).",
            "zh": "所有曾消费会员未来 {years} 年的预期利润，按每年 {rate} 折现（BG/NBD 购买模型 + Gamma-Gamma 消费额模型）。",
        },
        "value.kpi.at_risk": {"en": "Members at risk", "zh": "流失风险会员"},
        "value.kpi.at_risk_help": {
            "en": "Members who bought in the last 12 months and show at least one warning sign.",
            "zh": "近12个月有消费、且至少出现一个预警信号的会员。",
        },
        "value.kpi.value_at_risk": {"en": "Value at risk", "zh": "风险价值"},
        "value.kpi.value_at_risk_help": {
            "en": "Sum over members at risk of churn risk × value if retained (lifetime value given the member stays "
            "active): the future profit expected to be lost if nothing is done.",
            "zh": "流失风险会员的“流失风险 × 留住时的价值（会员保持活跃时的终身价值）”之和：不采取措施时预计损失的未来利润。",
        },
        "value.kpi.action_cost": {"en": "Cost of the recommended actions", "zh": "建议挽留措施费用"},
        "value.kpi.action_cost_help": {
            "en": "Expected benefit {benefit}: value at risk × the assumed save rate of each action (planning "
            "assumptions, not estimates).",
            "zh": "预期收益 {benefit}：风险价值 × 各措施假定的挽回率（规划假设，并非估计值）。",
        },
        "value.clv_title": {"en": "Lifetime value by tier", "zh": "各层客户终身价值"},
        "value.clv_chart": {"en": "Lifetime value per member (model)", "zh": "会员终身价值分布（模型）"},
        "value.clv_axis": {"en": "¥ per member", "zh": "每位会员（¥）"},
        "value.inactive": {"en": "No purchase in 12 months", "zh": "近12个月未消费"},
        "value.log_caption": {
            "en": "Log scale: each step up is ten times the value. The axis starts at ¥1: {n} members valued below "
            "¥1 (not expected to buy again) are not drawn.",
            "zh": "对数刻度：每上一格价值增加十倍。纵轴从 ¥1 起：终身价值低于 ¥1 的 {n} 位会员（预计不再消费）未在图中显示。",
        },
        "value.compare_chart": {"en": "Total lifetime value per tier: model vs. simple rule", "zh": "各层终身价值合计：模型与简单算法"},
        "value.series.model": {"en": "Model (BG/NBD + Gamma-Gamma)", "zh": "模型（BG/NBD + Gamma-Gamma）"},
        "value.series.simple": {"en": "Simple rule: years × annual profit", "zh": "简单算法：生命周期（年）× 年利润贡献"},
        "value.why_differ": {
            "en": "Why the two differ. The documents' rule multiplies the expected remaining years by last year's "
            "profit contribution: it does not discount, takes last year's profit as every future year's, subtracts "
            "care and complaint costs (so it is negative for loss-making members) and multiplies two averages. The "
            "model predicts each member's future purchases from the whole history, pulls short histories toward the "
            "mall average, counts the margin on expected spend over {years} years discounted at {rate} a year, and "
            "knows that frequent buyers leave sooner in calendar time (a member can only drop out after a purchase), "
            "so rate × lifetime is less than the product of the averages. Members who bought only once look "
            "long-lived to the model: read their values with that in mind.",
            "zh": "两者为何不同：资料中的简单算法用预计剩余年数乘以上一年的利润贡献，不折现，把上一年利润当作以后每年的利润，"
            "并扣除关怀与投诉成本（亏损会员因此为负值），而且是两个平均数相乘。模型则根据会员全部历史预测其未来购买，"
            "把历史较短的会员向商场平均水平收缩，按预期消费额的毛利计算未来 {years} 年价值并按每年 {rate} 折现；"
            "它还考虑到购买频繁的会员在日历时间上流失更早（会员只会在一次购买后流失），因此“频率 × 寿命”小于两个平均数的乘积。"
            "只消费过一次的会员在模型中显得寿命较长，解读其价值时请注意。",
        },
        "value.col.members": {"en": "Members", "zh": "会员数"},
        "value.col.model_clv_total": {"en": "Model, total (¥)", "zh": "模型合计（¥）"},
        "value.col.simple_clv_total": {"en": "Simple rule, total (¥)", "zh": "简单算法合计（¥）"},
        "value.col.model_clv_median": {"en": "Model, median (¥)", "zh": "模型中位数（¥）"},
        "value.col.simple_clv_median": {"en": "Simple rule, median (¥)", "zh": "简单算法中位数（¥）"},
        "value.check_title": {"en": "Model check: did it predict what members did?", "zh": "模型检验：预测与会员实际行为相符吗？"},
        "value.params_title": {"en": "Purchase model (BG/NBD) parameters", "zh": "购买模型（BG/NBD）参数"},
        "value.params_sentence": {
            "en": "Fitted on the purchases up to {date}: while active, a typical member shops on {rate} days a year "
            "(r/α per week × 52); after each shopping day, on average {dropout} of members stop for good (a/(a+b)). "
            "Intervals are 95% Wald intervals.",
            "zh": "根据截至 {date} 的消费拟合：会员在活跃期间平均每年到店消费 {rate} 天（每周 r/α × 52）；"
            "每次消费后平均有 {dropout} 的会员从此流失（a/(a+b)）。区间为 95% Wald 区间。",
        },
        "value.col.parameter": {"en": "Parameter", "zh": "参数"},
        "value.col.estimate": {"en": "Estimate", "zh": "估计值"},
        "value.col.std_error": {"en": "Standard error", "zh": "标准误"},
        "value.col.ci_lower": {"en": "95% lower", "zh": "95% 下限"},
        "value.col.ci_upper": {"en": "95% upper", "zh": "95% 上限"},
        "value.no_evaluation": {
            "en": "The model check compares a year of predictions with what happened and needs at least two years of "
            "data before the period end: {reason}",
            "zh": "模型检验需要用一年的预测与实际结果对比，期末之前至少需要两年数据：{reason}",
        },
        "value.kpi.auc": {"en": "Churn-risk score: AUC", "zh": "流失风险评分：AUC"},
        "value.kpi.auc_help": {
            "en": "Probability that a member who churned had a higher score than one who stayed (0.5 = coin toss, "
            "1 = perfect); 95% interval {low} – {high} (Hanley & McNeil 1982).",
            "zh": "流失会员的评分高于留存会员的概率（0.5 相当于随机，1 为完美）；95% 区间 {low} – {high}（Hanley & McNeil 1982）。",
        },
        "value.kpi.purchases": {"en": "Purchases: predicted vs. actual", "zh": "购买次数：预测与实际之差"},
        "value.kpi.purchases_help": {
            "en": "Total shopping days predicted for the last year by the model fitted a year earlier, against those "
            "that happened ((predicted − actual) / actual).",
            "zh": "一年前拟合的模型对最近一年消费天数的预测总数与实际之差（（预测 − 实际）/ 实际）。",
        },
        "value.holdout_chart": {"en": "Shopping days in the following year", "zh": "次年消费天数"},
        "value.holdout_x": {"en": "Repeat shopping days up to {date}", "zh": "截至 {date} 的重复消费天数"},
        "value.holdout_y": {"en": "Mean per member", "zh": "人均"},
        "value.series.actual": {"en": "Actual", "zh": "实际"},
        "value.series.predicted": {"en": "Predicted", "zh": "预测"},
        "value.purchases_sentence": {
            "en": "Fitted on the data up to {date}, the purchase model predicted {predicted} shopping days for the "
            "following year; {actual} happened ({error} off).",
            "zh": "根据截至 {date} 的数据，购买模型预测次年消费 {predicted} 天，实际为 {actual} 天（相差 {error}）。",
        },
        "value.calibration_chart": {"en": "Predicted risk vs. actual churn, by score decile", "zh": "按评分十分位：预测风险与实际流失率"},
        "value.decile_x": {"en": "Score decile (1 = lowest risk)", "zh": "评分十分位（1 = 风险最低）"},
        "value.series.mean_score": {"en": "Predicted risk", "zh": "预测流失风险"},
        "value.series.churn_rate": {"en": "Actual churn rate", "zh": "实际流失率"},
        "value.auc_sentence": {
            "en": "Scored with data up to {date} only, {members} active members were followed for a year and "
            "{churned} churned (no purchase). The score ranked churners above stayers with AUC {auc} (95% interval "
            "{low} – {high}); the purchase model's probability of no purchase alone reached {baseline}. The riskiest "
            "tenth churned at {top}, the safest at {bottom}.",
            "zh": "仅用截至 {date} 的数据评分，跟踪 {members} 位活跃会员一年，其中 {churned} 位流失（全年无消费）。"
            "评分区分流失与留存会员的 AUC 为 {auc}（95% 区间 {low} – {high}）；仅用购买模型的“无消费概率”时为 {baseline}。"
            "风险最高的十分之一会员流失率为 {top}，最低的十分之一为 {bottom}。",
        },
        "value.method.learned": {
            "en": "The score is a logistic regression learned on the mall's own previous year (warning signs, reasons, "
            "spend, care, complaints, satisfaction, the model's probability of no purchase).",
            "zh": "评分为用本商场上一年数据学习的逻辑回归（预警信号、原因、消费、关怀、投诉、满意度、模型的无消费概率）。",
        },
        "value.method.rules": {
            "en": "Too little history to learn the score: it combines the model's probability of no purchase with the "
            "overdue and falling-spend signs by fixed rules.",
            "zh": "历史数据不足，无法学习评分：按固定规则组合模型的无消费概率与“超期未到店”“消费下降”信号。",
        },
        "value.auc_weak": {
            "en": "On this data the score does not separate churners from stayers better than chance: rank by the "
            "reasons and the value, not by the score.",
            "zh": "在本数据上评分区分流失与留存会员的能力不优于随机：请按原因和价值而非评分排序。",
        },
        "value.risk_title": {"en": "Members at risk, ranked by value at risk", "zh": "流失风险会员（按风险价值排序）"},
        "value.no_risk": {
            "en": "No member who bought in the 12 months up to {date} shows a warning sign.",
            "zh": "截至 {date} 的12个月内有消费的会员均未出现预警信号。",
        },
        "value.filter_tiers": {"en": "Tiers", "zh": "层级"},
        "value.filter_reasons": {"en": "Likely reasons", "zh": "可能原因"},
        "value.filter_min": {"en": "Minimum value at risk (¥)", "zh": "最低风险价值（¥）"},
        "value.show_personal": {"en": "Show names (personal data)", "zh": "显示姓名（个人信息）"},
        "value.no_match": {"en": "No member at risk matches these filters.", "zh": "没有符合筛选条件的流失风险会员。"},
        "value.risk_summary": {
            "en": "{n} members shown · value at risk {value} · cost of actions {cost} · expected benefit {benefit}. "
            "Names are masked unless shown; the downloads follow this setting.",
            "zh": "显示 {n} 位会员 · 风险价值 {value} · 措施费用 {cost} · 预期收益 {benefit}。除非选择显示，姓名均已隐去；下载文件同样如此。",
        },
        "value.download_xlsx": {"en": "Download the maintenance plan (Excel)", "zh": "下载客户营销维护计划表（Excel）"},
        "value.plan_sheet": {"en": "Maintenance plan", "zh": "客户营销维护计划表"},
        "value.plan_caption": {
            "en": "The maintenance plan table: fill in the owner. Assumed save rates (planning assumptions, not "
            "estimates: the data hold no past win-back campaigns): personal care {personal_care}, tailored offer "
            "{tailored_offer}, SMS {info_sms}.",
            "zh": "客户营销维护计划表：请填写负责人。假定挽回率（规划假设，并非估计值：数据中没有以往的挽回活动记录）："
            "专人关怀 {personal_care}，定制优惠 {tailored_offer}，短信 {info_sms}。",
        },
    }
)

# --- Satisfaction page (2): empty state when the churn panel has no rows -------------------------------------------
TEXT.update(
    {
        "sat.no_panel": {
            "en": "Testing weights against what members did next needs purchase history for the three years up to "
            "{date}: surveys of two years, each followed by a year that shows who stayed. Choose a later period "
            "end in the sidebar.",
            "zh": "用会员后续行为检验权重，需要截至 {date} 的三年消费记录：两年的问卷，以及每年之后用来判断谁留下的一年。"
            "请在侧栏选择更晚的期末日期。",
        },
    }
)

# --- Shared sidebar filters: store and tier ------------------------------------------------------------------------
TEXT.update(
    {
        "sidebar.store": {"en": "Store", "zh": "门店"},
        "sidebar.all_stores": {"en": "All stores", "zh": "全部门店"},
        "sidebar.store_help": {
            "en": "Members whose home store is this one. The link keeps the choice.",
            "zh": "所属门店为此门店的会员。链接会保留此选择。",
        },
        "sidebar.tiers": {"en": "Tiers", "zh": "层级"},
        "sidebar.tiers_help": {
            "en": "Members whose tier (saved tier rules, on their purchases in the period, as on the Customer "
            "pyramid page) is one of these. The link keeps the choice.",
            "zh": "层级（按已保存的层级规则和期间内的消费计算，与“顾客金字塔”页相同）属于所选层级的会员。链接会保留此选择。",
        },
        "filters.active": {"en": "Sidebar filters: {filters}.", "zh": "侧栏筛选：{filters}。"},
        "filters.store": {"en": "store {store}", "zh": "门店 {store}"},
        "filters.tiers": {"en": "tiers {tiers}", "zh": "层级 {tiers}"},
        "filters.no_tier": {"en": "none", "zh": "无"},
        "filters.no_members": {
            "en": "No member matches the sidebar filters ({filters}) here. Choose another store or more tiers in "
            "the sidebar.",
            "zh": "此处没有符合侧栏筛选条件（{filters}）的会员。请在侧栏选择其他门店或更多层级。",
        },
        "filters.name.store": {"en": "store filter", "zh": "门店筛选"},
        "filters.name.tiers": {"en": "tier filter", "zh": "层级筛选"},
        "filters.and": {"en": " and ", "zh": "和"},
        "filters.scope.none": {
            "en": "This section covers the whole mall, without the sidebar's {ignored} ({reason}).",
            "zh": "本部分为全商场数据，不使用侧栏的{ignored}（{reason}）。",
        },
        "filters.scope.some": {
            "en": "This section uses the sidebar's {used} but not its {ignored} ({reason}).",
            "zh": "本部分使用侧栏的{used}，但不使用{ignored}（{reason}）。",
        },
        "filters.reason.kpis": {
            "en": "the KPIs and weekly trends are computed for the whole mall",
            "zh": "指标与周趋势按全商场计算",
        },
        "filters.reason.all_tiers": {"en": "the pyramid shows every tier", "zh": "金字塔显示全部层级"},
        "filters.reason.rules": {
            "en": "tier rules apply to every member of the mall",
            "zh": "层级规则适用于全商场的所有会员",
        },
        "filters.reason.flows": {
            "en": "the flows run between tiers: choose them with From and To",
            "zh": "流动发生在层级之间：请用“从”和“到”选择",
        },
        "filters.reason.referrals": {
            "en": "referral rates, new members and the value of the referred are computed for the whole mall; the top "
            "referrers at the bottom follow the filters",
            "zh": "转介绍率、新会员和被推荐会员的价值按全商场计算；页面底部的推荐人排行按筛选条件显示",
        },
        "filters.reason.index": {
            "en": "the index by tier, store and period is computed for the whole mall",
            "zh": "按层级、门店和期间的指数按全商场计算",
        },
        "filters.reason.weights": {
            "en": "the weights are one setting for the whole mall, fitted on all members",
            "zh": "权重是全商场统一的设置，用全部会员拟合",
        },
        "filters.reason.loyalty": {
            "en": "the loyalty indicators are computed for the whole mall",
            "zh": "忠诚度指标按全商场计算",
        },
        "filters.reason.model": {
            "en": "the model is fitted and checked on the whole mall",
            "zh": "模型按全商场拟合和检验",
        },
    }
)

# Background precompute (dashboard/precompute.py)
TEXT.update(
    {
        "common.rows_shown": {
            "en": "Showing the first {shown} of {total} rows; the CSV download holds all of them.",
            "zh": "显示前 {shown} 行，共 {total} 行；下载的 CSV 包含全部数据。",
        },
        "sidebar.precomputing": {
            "en": "⏳ Preparing the analyses for this data in the background; pages opened meanwhile may take longer.",
            "zh": "⏳ 正在后台为当前数据准备分析结果；此间打开的页面可能较慢。",
        },
    }
)

# The sidebar's period, bounded by the data's own span (dashboard/app.py, dashboard/state.py)
TEXT.update(
    {
        "period.adjusted": {
            "en": "The period {asked} lies outside the data ({first} – {latest}): showing the period above instead.",
            "zh": "期间 {asked} 超出数据范围（{first} – {latest}）：已改为上方显示的期间。",
        },
        "period.no_care_records": {
            "en": "No care action is recorded up to {date}, so the effect of care cannot be estimated. Care records "
            "come from the care import on the Data page.",
            "zh": "截至 {date} 没有关怀记录，无法估计关怀效果。关怀数据可在“数据管理”页面导入。",
        },
    }
)

# Data page: the column mapping step before an import (dashboard/importing.py)
TEXT.update(
    {
        "data.map.title": {"en": "Columns of the file", "zh": "文件的列"},
        "data.map.intro": {
            "en": "The first rows of {name}. Choose what each column holds; recognised headers are preselected.",
            "zh": "{name} 的前几行。请为每一列选择其含义；已识别的表头已预先选好。",
        },
        "data.map.role_of": {"en": "Column “{header}”", "zh": "列“{header}”"},
        "data.map.ignore": {"en": "Ignore this column", "zh": "忽略此列"},
        "data.map.ignore_or_item": {"en": "Survey item, or ignore", "zh": "问卷题目，或忽略"},
        "data.map.required": {"en": "{name} (required)", "zh": "{name}（必填）"},
        "data.map.unknown": {
            "en": "Not recognised, ignored unless you choose what they hold: {columns}",
            "zh": "未识别的列（除非为其选择含义，否则忽略）：{columns}",
        },
        "data.map.unknown_surveys": {
            "en": "Not recognised as a survey column; read as questionnaire items when they name one, else ignored: {columns}",
            "zh": "未识别为问卷基本列；若为题目代码或题目名称则按题目读取，否则忽略：{columns}",
        },
        "data.map.missing": {
            "en": "Required columns still missing: {columns}. Choose the file column that holds each of them; "
            "Import stays off until then.",
            "zh": "仍缺少必填列：{columns}。请为每个必填列选择文件中对应的列；在此之前无法导入。",
        },
        "data.map.duplicate": {
            "en": "{role} is chosen for more than one column ({columns}): choose it for one column only.",
            "zh": "{role} 被选给了多个列（{columns}）：只能选给其中一列。",
        },
        "data.map.saved": {
            "en": "Preselected as when a file with these columns was last imported.",
            "zh": "已按上次导入相同列结构文件时的对应关系预先选好。",
        },
        "data.map.file_problem": {
            "en": "This file cannot be read: {reason}. Nothing can be imported from it.",
            "zh": "无法读取此文件：{reason}。无法从中导入数据。",
        },
        "data.map.looks_like": {
            "en": "The header looks like a file of {kind}: check “What the file holds” above.",
            "zh": "表头看起来像是“{kind}”文件：请检查上方的“文件内容”。",
        },
        "data.map.headerless": {
            "en": "Column names are given for a file without header: its first row is read as data.",
            "zh": "已为无表头文件指定列名：文件第一行将作为数据读取。",
        },
        "data.map.role.member_id": {"en": "Member ID", "zh": "会员号"},
        "data.map.role.name": {"en": "Name", "zh": "姓名"},
        "data.map.role.phone": {"en": "Phone", "zh": "手机号"},
        "data.map.role.birthday": {"en": "Birthday", "zh": "生日"},
        "data.map.role.gender": {"en": "Gender", "zh": "性别"},
        "data.map.role.join_date": {"en": "Join date", "zh": "入会日期"},
        "data.map.role.home_store": {"en": "Home store", "zh": "所属门店"},
        "data.map.role.channel": {"en": "Channel", "zh": "入会渠道"},
        "data.map.role.referred_by": {"en": "Referred by", "zh": "推荐人"},
        "data.map.role.txn_id": {"en": "Transaction ID", "zh": "交易号"},
        "data.map.role.ts": {"en": "Date and time", "zh": "交易时间"},
        "data.map.role.store": {"en": "Store", "zh": "门店"},
        "data.map.role.category": {"en": "Category", "zh": "类别"},
        "data.map.role.quantity": {"en": "Quantity", "zh": "数量"},
        "data.map.role.amount": {"en": "Amount", "zh": "金额"},
        "data.map.role.gross_margin": {"en": "Gross margin", "zh": "毛利"},
        "data.map.role.discount": {"en": "Discount", "zh": "折扣"},
        "data.map.role.is_return": {"en": "Return", "zh": "是否退货"},
        "data.map.role.complaint_id": {"en": "Complaint ID", "zh": "投诉编号"},
        "data.map.role.complaint_date": {"en": "Complaint date", "zh": "投诉日期"},
        "data.map.role.severity": {"en": "Severity", "zh": "严重程度"},
        "data.map.role.resolved_date": {"en": "Resolved date", "zh": "解决日期"},
        "data.map.role.resolution": {"en": "Resolution", "zh": "处理结果"},
        "data.map.role.compensation_cost": {"en": "Compensation", "zh": "补偿金额"},
        "data.map.role.survey_date": {"en": "Survey date", "zh": "调查日期"},
        "data.map.role.expectation": {"en": "Expectation", "zh": "期望值"},
        "data.map.role.action_date": {"en": "Care date", "zh": "关怀日期"},
        "data.map.role.kind": {"en": "Care type", "zh": "关怀方式"},
        "data.map.role.cost": {"en": "Cost", "zh": "费用"},
        "data.map.role.campaign_id": {"en": "Campaign", "zh": "活动编号"},
    }
)

# Margin rates for sales exported without a margin (vipmodel.margins).
TEXT.update(
    {
        "margins.title": {"en": "Margin rates", "zh": "毛利率"},
        "margins.intro": {
            "en": "Sales exported without a gross margin (a POS export) get an estimated margin: amount × the rate "
            "of their product category, else of their store, else the mall's rate. Margins in the export are "
            "always used as they are.",
            "zh": "导出文件中没有毛利的销售（如 POS 导出）按估算毛利计算：金额 × 其商品品类的毛利率，"
            "没有则按门店，再没有则按商场毛利率。导出文件中已有的毛利始终按原值使用。",
        },
        "margins.coverage": {
            "en": "In the sidebar's period {share} of sales had no margin in the export.",
            "zh": "在侧栏所选期间，{share} 的销售额在导出文件中没有毛利。",
        },
        "margins.in_force": {"en": "Rates in force: {source}.", "zh": "当前毛利率：{source}。"},
        "margins.default_source": {
            "en": "the product's default ({rate}) until the mall saves its own",
            "zh": "系统默认值（{rate}），直到商场保存自己的毛利率",
        },
        "margins.version_source": {"en": "version {version}", "zh": "第 {version} 版"},
        "margins.default_rate": {"en": "Mall's gross-margin rate (%)", "zh": "商场毛利率（%）"},
        "margins.by_store": {"en": "Rates of particular stores", "zh": "各门店毛利率"},
        "margins.by_category": {"en": "Rates of particular product categories", "zh": "各商品品类毛利率"},
        "margins.name": {"en": "Name", "zh": "名称"},
        "margins.rate": {"en": "Rate (%)", "zh": "毛利率（%）"},
        "margins.invalid": {"en": "These rates cannot be saved: {reason}", "zh": "无法保存这些毛利率：{reason}"},
        "margins.save": {"en": "Save these rates as a new version", "zh": "将这些毛利率保存为新版本"},
        "margins.saved": {
            "en": "Saved as version {version}. Every profit figure is recomputed with the new rates.",
            "zh": "已保存为第 {version} 版。所有利润数据将按新毛利率重新计算。",
        },
        "margins.history": {"en": "Saved margin rates", "zh": "已保存的毛利率"},
        "margins.note": {
            "en": "Profit here uses estimated margins for {share} of the period's sales (no margin in the export): "
            "{source}. Set the rates on the Data page.",
            "zh": "此处利润中有 {share} 的销售额使用估算毛利（导出文件中没有毛利）：{source}。可在“数据”页设置毛利率。",
        },
        "margins.note_rate": {"en": "the mall's rate of {rate}", "zh": "商场毛利率 {rate}"},
        "margins.note_rates": {
            "en": "the mall's rate of {rate}, with rates per store or category",
            "zh": "商场毛利率 {rate}，另有按门店或品类的毛利率",
        },
        "margins.note_default": {"en": " (the product's default)", "zh": "（系统默认值）"},
    }
)

# Personal data by role (vipmodel.privacy).
TEXT.update(
    {
        "privacy.names_hidden": {
            "en": "Your role sees members' names masked (personal information); marketing and administrators see them.",
            "zh": "您的角色只能看到打码后的会员姓名（个人信息）；营销部和管理员可以查看姓名。",
        },
    }
)

# Sign-in and roles (dashboard.access).
TEXT.update(
    {
        "auth.title": {"en": "Sign in", "zh": "登录"},
        "auth.username": {"en": "User name", "zh": "用户名"},
        "auth.password": {"en": "Password", "zh": "密码"},
        "auth.sign_in": {"en": "Sign in", "zh": "登录"},
        "auth.sign_out": {"en": "Sign out", "zh": "退出登录"},
        "auth.wrong": {"en": "Sign-in refused: wrong name or password.", "zh": "登录失败：用户名或密码错误。"},
        "auth.locked": {
            "en": "Sign-in refused: too many failed attempts; try again after {time}.",
            "zh": "登录失败：失败次数过多，请在 {time} 之后再试。",
        },
        "auth.expired": {
            "en": "Your session ended after {hours} hours: please sign in again.",
            "zh": "会话已超过 {hours} 小时自动结束，请重新登录。",
        },
        "auth.no_users": {
            "en": "No user can sign in yet. An administrator of the server creates the first one: "
            "`python -m vipmodel users add NAME --role admin --url <database URL>`.",
            "zh": "尚无可登录的用户。请服务器管理员先创建第一个用户："
            "`python -m vipmodel users add 用户名 --role admin --url <数据库地址>`。",
        },
        "auth.oidc_button": {"en": "Sign in with the mall's account", "zh": "使用商场账号登录"},
        "auth.oidc_unknown": {
            "en": "{email} has no access to this dashboard yet: ask an administrator to add you.",
            "zh": "{email} 尚无权限使用本系统，请联系管理员添加。",
        },
        "auth.signed_in_as": {"en": "Signed in as {name} ({role})", "zh": "当前用户：{name}（{role}）"},
        "auth.role.viewer": {"en": "viewer", "zh": "只读"},
        "auth.role.marketing": {"en": "marketing", "zh": "营销"},
        "auth.role.admin": {"en": "administrator", "zh": "管理员"},
        "auth.demo_banner": {
            "en": "Demo mode: generated demo data, no sign-in, every visitor is an administrator. "
            "A mall's own database (VIPDASH_DATABASE_URL or secrets) always requires sign-in.",
            "zh": "演示模式：数据为生成的演示数据，无需登录，所有访问者均为管理员。"
            "使用商场自己的数据库（VIPDASH_DATABASE_URL 或 secrets）时必须登录。",
        },
        "auth.read_only": {
            "en": "Your role ({role}) may read this page but not save changes.",
            "zh": "您的角色（{role}）可以查看本页，但不能保存修改。",
        },
        "auth.not_allowed": {
            "en": "Your role ({role}) may not do this.",
            "zh": "您的角色（{role}）无权执行此操作。",
        },
        "auth.saved_by": {"en": "Saved as {name}.", "zh": "将以 {name} 的名义保存。"},
        "auth.concurrent": {
            "en": "Someone saved a new version at the same moment: reload the page and save again.",
            "zh": "其他人刚刚保存了新版本：请刷新页面后重新保存。",
        },
    }
)

# Administration page: audit trail, rollbacks, users.
TEXT.update(
    {
        "page.admin": {"en": "Administration", "zh": "系统管理"},
        "admin.audit_title": {"en": "Audit trail", "zh": "审计记录"},
        "admin.actions": {"en": "Show only", "zh": "仅显示"},
        "admin.action.setting_saved": {"en": "setting saved", "zh": "保存设置"},
        "admin.action.setting_rolled_back": {"en": "setting rolled back", "zh": "回滚设置"},
        "admin.action.import": {"en": "import", "zh": "导入数据"},
        "admin.action.demo_regenerated": {"en": "demo regenerated", "zh": "重新生成演示数据"},
        "admin.action.sign_in": {"en": "sign-in", "zh": "登录"},
        "admin.action.sign_in_failed": {"en": "failed sign-in", "zh": "登录失败"},
        "admin.action.sign_out": {"en": "sign-out", "zh": "退出登录"},
        "admin.action.user_added": {"en": "user added", "zh": "添加用户"},
        "admin.action.user_changed": {"en": "user changed", "zh": "修改用户"},
        "admin.col.at": {"en": "When", "zh": "时间"},
        "admin.col.username": {"en": "Who", "zh": "用户"},
        "admin.col.action": {"en": "What", "zh": "操作"},
        "admin.col.target": {"en": "On", "zh": "对象"},
        "admin.col.before": {"en": "Before", "zh": "修改前"},
        "admin.col.after": {"en": "After", "zh": "修改后"},
        "admin.user_col.username": {"en": "User name", "zh": "用户名"},
        "admin.user_col.role": {"en": "Role", "zh": "角色"},
        "admin.user_col.disabled": {"en": "Disabled", "zh": "已停用"},
        "admin.user_col.created_at": {"en": "Created", "zh": "创建时间"},
        "admin.user_col.has_password": {"en": "Has a password", "zh": "已设密码"},
        "admin.user_col.locked_until": {"en": "Locked until", "zh": "锁定至"},
        "admin.rollback_title": {"en": "Roll a setting back", "zh": "回滚设置"},
        "admin.setting": {"en": "Setting", "zh": "设置"},
        "admin.kind.tier_rules": {"en": "Tier rules", "zh": "分层规则"},
        "admin.kind.satisfaction_weights": {"en": "Satisfaction weights", "zh": "满意度权重"},
        "admin.kind.care_plan": {"en": "Care plan", "zh": "关怀计划"},
        "admin.kind.margin_rates": {"en": "Margin rates", "zh": "毛利率"},
        "admin.no_versions": {"en": "No version saved yet.", "zh": "尚未保存任何版本。"},
        "admin.version": {"en": "Put back version", "zh": "恢复到版本"},
        "admin.rollback": {"en": "Roll back (saved as a new version)", "zh": "回滚（保存为新版本）"},
        "admin.rolled_back": {
            "en": "Version {version} is in force again, saved as version {new}.",
            "zh": "已恢复第 {version} 版，保存为第 {new} 版。",
        },
        "admin.users_title": {"en": "Users", "zh": "用户"},
        "admin.role": {"en": "Role", "zh": "角色"},
        "admin.new_password": {
            "en": "Password (new users; leave blank for sign-in through the mall's account only)",
            "zh": "密码（新用户；留空则只能使用商场账号登录）",
        },
        "admin.disabled": {"en": "Disabled", "zh": "停用"},
        "admin.save_user": {"en": "Add or change user", "zh": "添加或修改用户"},
        "admin.user_saved": {"en": "User {name} saved.", "zh": "用户 {name} 已保存。"},
        "admin.users_cli": {
            "en": "Passwords are changed on the server: `python -m vipmodel users passwd NAME`.",
            "zh": "密码在服务器上修改：`python -m vipmodel users passwd 用户名`。",
        },
        "admin.results_title": {"en": "Results in the database", "zh": "数据库中的结果"},
        "admin.results_caption": {
            "en": "A refresh computes every member's results for the weekly pack (tier, profit, lifetime value, churn "
            "risk) once per data version. Stored views are each page's default view, computed once and read by "
            "every app server.",
            "zh": "每次数据更新后，刷新会为每周报告计算一次每位会员的结果（层级、利润、终身价值、流失风险）。"
            "已存储的视图是各页面的默认视图，只计算一次，供所有应用服务器读取。",
        },
        "admin.runs_title": {"en": "Refresh runs", "zh": "刷新记录"},
        "admin.no_runs": {"en": "No refresh has run yet.", "zh": "尚未运行过刷新。"},
        "admin.run.run_id": {"en": "Run", "zh": "运行编号"},
        "admin.run.as_of": {"en": "Day of analysis", "zh": "分析日期"},
        "admin.run.status": {"en": "Status", "zh": "状态"},
        "admin.run.started_at": {"en": "Started (UTC)", "zh": "开始时间（UTC）"},
        "admin.run.seconds": {"en": "Seconds", "zh": "耗时（秒）"},
        "admin.run.members": {"en": "Members", "zh": "会员数"},
        "admin.run.error": {"en": "Error", "zh": "错误"},
        "admin.run.current": {"en": "Current", "zh": "当前有效"},
        "admin.run_status.done": {"en": "done", "zh": "完成"},
        "admin.run_status.failed": {"en": "failed", "zh": "失败"},
        "admin.run_status.running": {"en": "running", "zh": "运行中"},
        "admin.stored_title": {"en": "Stored page results", "zh": "已存储的页面结果"},
        "admin.no_stored": {"en": "No stored results yet.", "zh": "尚无已存储的结果。"},
        "admin.stored.rows": {"en": "Rows", "zh": "行数"},
        "admin.stored.mb": {"en": "Size (MB)", "zh": "大小（MB）"},
        "admin.stored.current": {"en": "For the current data", "zh": "属于当前数据版本"},
        "admin.stored.name": {"en": "Result", "zh": "结果"},
        "admin.stored.count": {"en": "Rows", "zh": "行数"},
        "admin.stored.newest": {"en": "Newest (UTC)", "zh": "最近存储（UTC）"},
    }
)

# Import of restated members (update mode).
TEXT.update(
    {
        "data.update": {
            "en": "Update members stored with different values (a corrected export)",
            "zh": "更新已存在但信息不同的会员（更正后的导出文件）",
        },
        "data.updated": {"en": "{n} members updated:", "zh": "已更新 {n} 位会员："},
    }
)

# Link parameters that could not be used.
TEXT.update(
    {
        "period.link_ignored": {
            "en": "Not understood in the link, so not used: {params}.",
            "zh": "链接中的以下参数无法识别，已忽略：{params}。",
        },
    }
)


_merge_area_texts()
