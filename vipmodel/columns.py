"""Column names and values that real mall exports use, mapped to the data model's canonical names.

One mapping per import kind: canonical column -> :class:`ColumnSpec` (accepted header aliases, required or
optional, value type). Headers are matched after :func:`normalize_header` (Unicode NFKC, case-folded,
whitespace, ``_``, ``-`` and ``.`` removed, a trailing unit such as ``(元)`` dropped), so ``Member ID``,
``member_id`` and ``MEMBER-ID`` are the same header. Aliases listed earlier win when a file carries two
columns that map to the same canonical name (e.g. ``会员编号`` and ``卡号``): the other one is ignored with a
warning.

``docs/IMPORT.md`` shows these tables; :func:`markdown_tables` generates them and a test checks that every
alias appears in the document.

This module is pure data and string handling: no database, no pandas.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from vipmodel import schema

KINDS: tuple[str, ...] = ("members", "transactions", "complaints", "surveys", "care")

# Value types understood by the importer's converters.
TYPES: tuple[str, ...] = (
    "id",  # non-empty identifier string (leading zeros kept)
    "text",  # free text
    "date",
    "datetime",
    "money",  # >= 0, two decimals
    "signed_money",  # may be negative (gross margin of a loss-making sale)
    "int",  # >= 0 integer
    "bool",
    "gender",
    "care_kind",
    "complaint_category",
    "severity",
    "score",  # integer 1..7
)


@dataclass(frozen=True)
class ColumnSpec:
    """One canonical column of an import kind.

    Attributes
    ----------
    name : str
        Canonical name (the column of the database table, or a pseudo-column of the survey file).
    aliases : tuple of str
        Accepted headers, in priority order; the canonical name itself is always accepted first.
    required : bool
        The header must be present and every row must have a value.
    type : str
        One of :data:`TYPES`.
    """

    name: str
    aliases: tuple[str, ...]
    required: bool
    type: str


def _spec(name: str, required: bool, type_: str, *aliases: str) -> ColumnSpec:
    return ColumnSpec(name=name, aliases=(name, *aliases), required=required, type=type_)


_MEMBER_ID_ALIASES = (
    "member id", "member_no", "member number", "customer_id", "customer id", "cust_id", "vip_id", "vip no",
    "card_no", "card number", "master_id", "会员号", "会员编号", "会员ID", "会员卡号", "VIP卡号", "卡号",
    "顾客编号", "客户编号", "客户号",
)  # fmt: skip

COLUMNS: dict[str, tuple[ColumnSpec, ...]] = {
    "members": (
        _spec("member_id", True, "id", *_MEMBER_ID_ALIASES, "id"),
        _spec("name", False, "text", "full name", "member_name", "customer_name", "姓名", "会员姓名", "客户姓名",
              "名字"),
        _spec("phone", False, "text", "mobile", "telephone", "tel", "phone_number", "mobile_phone", "手机",
              "手机号", "手机号码", "电话", "联系电话", "移动电话"),
        _spec("birthday", False, "date", "birth_date", "date_of_birth", "dob", "生日", "出生日期"),
        _spec("gender", False, "gender", "sex", "性别"),
        _spec("join_date", True, "date", "joined", "member_since", "registration_date", "signup_date",
              "enrol_date", "入会日期", "入会时间", "注册日期", "注册时间", "开卡日期", "办卡日期"),
        _spec("home_store", False, "text", "store", "shop", "门店", "所属门店", "开卡门店", "店铺"),
        _spec("channel", False, "text", "source", "渠道", "来源", "入会渠道"),
        _spec("referred_by", False, "id", "referrer", "referrer_id", "referred by", "推荐人", "推荐人编号",
              "推荐人会员号", "介绍人"),
    ),
    "transactions": (
        _spec("txn_id", False, "id", "transaction_id", "transaction id", "order_id", "receipt_no", "ticket_no",
              "invoice_no", "交易号", "交易编号", "流水号", "小票号", "单号", "订单号"),
        _spec("member_id", True, "id", *_MEMBER_ID_ALIASES),
        _spec("ts", True, "datetime", "timestamp", "datetime", "transaction_date", "transaction_time",
              "txn_date", "purchase_date", "order_date", "date", "交易时间", "交易日期", "消费日期", "消费时间",
              "购买日期", "日期", "时间"),
        _spec("store", False, "text", "shop", "store_id", "门店", "店铺", "门店编号", "专柜"),
        _spec("category", False, "text", "product_category", "品类", "类别", "商品类别", "商品品类", "大类"),
        _spec("quantity", False, "int", "qty", "units", "number_of_items", "数量", "件数", "购买数量"),
        _spec("amount", True, "money", "sales", "sales_amount", "value", "total", "spend", "消费金额", "金额",
              "交易金额", "销售金额", "销售额"),
        _spec("gross_margin", False, "signed_money", "margin", "gross_profit", "毛利", "毛利额"),
        _spec("discount", False, "money", "discount_amount", "折扣", "优惠金额", "折扣金额", "优惠"),
        _spec("is_return", False, "bool", "return", "returned", "refund", "退货", "是否退货"),
    ),
    "complaints": (
        _spec("complaint_id", False, "id", "case_id", "ticket_id", "投诉编号", "投诉号", "工单号"),
        _spec("member_id", True, "id", *_MEMBER_ID_ALIASES),
        _spec("complaint_date", True, "date", "date", "投诉日期", "投诉时间", "日期"),
        _spec("category", True, "complaint_category", "complaint_type", "type", "投诉类别", "投诉类型", "类别",
              "类型"),
        _spec("severity", False, "severity", "level", "严重程度", "等级", "级别"),
        _spec("resolved_date", False, "date", "resolution_date", "closed_date", "解决日期", "处理完成日期",
              "结案日期"),
        _spec("resolution", False, "text", "outcome", "result", "处理结果", "解决方式", "处理方式"),
        _spec("compensation_cost", False, "money", "compensation", "cost", "补偿金额", "赔偿金额", "补偿费用"),
    ),
    "surveys": (
        _spec("member_id", True, "id", *_MEMBER_ID_ALIASES),
        _spec("survey_date", True, "date", "response_date", "date", "调查日期", "问卷日期", "填写日期", "日期"),
        _spec("expectation", False, "score", "expected", "期望", "期望值", "总体期望"),
    ),
    "care": (
        _spec("member_id", True, "id", *_MEMBER_ID_ALIASES),
        _spec("action_date", True, "date", "care_date", "date", "关怀日期", "执行日期", "日期"),
        _spec("kind", True, "care_kind", "action", "care_type", "type", "关怀方式", "关怀类型", "方式", "类型"),
        _spec("cost", False, "money", "amount", "费用", "成本", "金额"),
        _spec("campaign_id", False, "id", "campaign", "活动编号", "活动号", "活动"),
    ),
}

# Members' personal data (vipmodel.schema keeps it in these columns only): reports of changed members name these
# columns but never show their values.
PERSONAL_COLUMNS: tuple[str, ...] = ("name", "phone", "birthday")

# Accepted cell values for coded columns: canonical value -> aliases (matched like headers).
VALUES: dict[str, dict[object, tuple[str, ...]]] = {
    "gender": {
        "M": ("m", "male", "man", "男", "男性"),
        "F": ("f", "female", "woman", "女", "女性"),
        "U": ("u", "unknown", "未知", "保密"),
    },
    "care_kind": {
        "phone_greeting": ("phone_greeting", "phone greeting", "phone", "call", "电话问候", "电话"),
        "birthday_gift": ("birthday_gift", "birthday gift", "生日礼物", "生日礼品", "生日"),
        "holiday_card": ("holiday_card", "holiday card", "card", "节日贺卡", "贺卡"),
        "sms": ("sms", "text message", "短信"),
        "event_invitation": ("event_invitation", "event invitation", "event", "活动邀请", "会员活动", "会员活动邀请"),
        "lecture": ("lecture", "talk", "讲座", "健康讲座"),
    },
    "complaint_category": {
        "product": ("product", "product quality", "quality", "商品", "产品", "产品质量", "商品质量"),
        "service": ("service", "service quality", "服务", "服务质量"),
    },
    "severity": {
        1: ("1", "minor", "low", "轻微", "轻"),
        2: ("2", "moderate", "medium", "一般", "中等", "中"),
        3: ("3", "serious", "severe", "high", "严重", "重"),
    },
    "bool": {
        True: ("1", "true", "t", "yes", "y", "是", "退货", "退"),
        False: ("0", "false", "f", "no", "n", "否", "正常", "销售"),
    },
}

# Survey item columns: a code prefix or a Chinese part name announces the dimension of a new item.
ITEM_PREFIXES: dict[str, str] = {
    "pq_": "product_quality",
    "ss_": "sales_service",
    "ci_": "corporate_image",
    "产品质量": "product_quality",
    "销售服务": "sales_service",
    "企业形象": "corporate_image",
}
_ITEM_CODE_PREFIX = {"product_quality": "pq_", "sales_service": "ss_", "corporate_image": "ci_"}

_UNIT_SUFFIX = re.compile(r"[(\[【][^()\[\]【】]*[)\]】]$")
_SEPARATORS = re.compile(r"[\s_\-.·:：]+")


def normalize_header(text: object) -> str:
    """The form in which headers and coded values are compared.

    NFKC turns full-width characters (``（元）``, ``ＩＤ``) into their ASCII forms; case, whitespace and the
    separators ``_ - . · :`` are ignored; a trailing unit in brackets (``消费金额(元)``) is dropped.
    """
    s = unicodedata.normalize("NFKC", str(text)).replace("\ufeff", "").strip().casefold()
    s = _UNIT_SUFFIX.sub("", s).strip() or s
    return _SEPARATORS.sub("", s)


def specs(kind: str) -> tuple[ColumnSpec, ...]:
    """The column specs of ``kind``; ValueError for an unknown kind."""
    check_kind(kind)
    return COLUMNS[kind]


def check_kind(kind: str) -> None:
    """Raise ``ValueError("unknown import kind 'x': expected one of members, ...")`` for an unknown kind."""
    if kind not in KINDS:
        raise ValueError(f"unknown import kind {kind!r}: expected one of {', '.join(KINDS)}")


def required_columns(kind: str) -> tuple[str, ...]:
    """Canonical names of the required columns of ``kind``."""
    return tuple(s.name for s in specs(kind) if s.required)


def _alias_index(kind: str) -> dict[str, tuple[str, int]]:
    index: dict[str, tuple[str, int]] = {}
    for spec in specs(kind):
        for rank, alias in enumerate(spec.aliases):
            index.setdefault(normalize_header(alias), (spec.name, rank))
    return index


def resolve_name(kind: str, header: str) -> str | None:
    """The canonical column that ``header`` names in a ``kind`` file, or None."""
    found = _alias_index(kind).get(normalize_header(header))
    return found[0] if found else None


IGNORE = "_"  # mapping target (and headerless column name) that ignores a column


@dataclass(frozen=True)
class MappingProblem:
    """Why an explicit column mapping cannot be applied to a file.

    Attributes
    ----------
    column : str
        The file's header (or the mapping key, when it names no header of the file).
    reason : str
        Short fixed phrase: ``"mapped column not in file"``, ``"unknown mapping target"`` or
        ``"column mapped twice"``.
    value : str
        A detail for the user (the file's headers, the accepted targets, the other column).
    """

    column: str
    reason: str
    value: str


@dataclass(frozen=True)
class HeaderMatch:
    """How a file's header maps onto a kind.

    Attributes
    ----------
    columns : dict
        Canonical name -> position of the file column that supplies it.
    unmatched : tuple of int
        Positions of columns no alias of the kind recognised and no mapping named (candidate survey items, or
        ignored).
    shadowed : tuple of (int, str)
        Positions of columns that named a canonical column already supplied by a higher-priority alias or by an
        explicit mapping, with that canonical name.
    missing : tuple of str
        Required canonical columns that no header supplies.
    mapped : tuple of (int, str)
        Positions named by the explicit mapping, with their canonical target or :data:`IGNORE`.
    problems : tuple of MappingProblem
        Why the explicit mapping cannot be applied; when not empty the other fields describe the automatic
        match only.
    """

    columns: dict[str, int]
    unmatched: tuple[int, ...]
    shadowed: tuple[tuple[int, str], ...]
    missing: tuple[str, ...]
    mapped: tuple[tuple[int, str], ...] = ()
    problems: tuple[MappingProblem, ...] = ()

    @property
    def ignored(self) -> tuple[int, ...]:
        """Positions the explicit mapping ignores (target :data:`IGNORE`)."""
        return tuple(pos for pos, target in self.mapped if target == IGNORE)


def resolve_target(kind: str, target: str) -> str | None:
    """The canonical column (or :data:`IGNORE`) a mapping target names in a ``kind`` file, or None.

    A target is a canonical name or any accepted alias of the kind (matched like headers), or ``"_"``.
    """
    if str(target).strip() == IGNORE:
        return IGNORE
    if not normalize_header(target):
        return None
    return resolve_name(kind, target)


def check_mapping(kind: str, headers: Sequence[str], mapping: Mapping[str, str]) -> tuple[
    dict[int, str], tuple[MappingProblem, ...]
]:
    """Apply an explicit ``mapping`` (file header -> target) to ``headers``.

    Parameters
    ----------
    kind : str
        Import kind (one of :data:`KINDS`).
    headers : sequence of str
        The file's header row.
    mapping : mapping of str to str
        File header (matched like headers: case, space, width and unit insensitive) -> canonical column name,
        any accepted alias of the kind, or ``"_"`` to ignore the column.

    Returns
    -------
    explicit : dict
        Position of each mapped column -> its canonical target or :data:`IGNORE`.
    problems : tuple of MappingProblem
        A key that names no header of the file, a target that is no column of ``kind``, two headers mapped to
        the same column (or one header mapped to two columns). Empty when the mapping applies.
    """
    positions: dict[str, list[int]] = {}
    for pos, header in enumerate(headers):
        if str(header).strip():
            positions.setdefault(normalize_header(header), []).append(pos)
    problems: list[MappingProblem] = []
    explicit: dict[int, str] = {}
    source: dict[str, int] = {}  # canonical target -> position of the column that supplies it
    names = ", ".join(s.name for s in specs(kind))
    for key, target in mapping.items():
        found = positions.get(normalize_header(key), []) if str(key).strip() else []
        if not found:
            shown = ", ".join(str(h) for h in headers if str(h).strip())
            problems.append(MappingProblem(str(key), "mapped column not in file", f"the file's columns: {shown}"))
            continue
        canonical = resolve_target(kind, target)
        if canonical is None:
            problems.append(
                MappingProblem(
                    str(key), "unknown mapping target",
                    f"{target!r} is not a {kind} column; expected one of {names}, or _ to ignore the column",
                )
            )  # fmt: skip
            continue
        for pos in found:
            header = str(headers[pos])
            if pos in explicit and explicit[pos] != canonical:
                problems.append(
                    MappingProblem(header, "column mapped twice", f"mapped to {explicit[pos]} and to {canonical}")
                )
                continue
            if canonical != IGNORE and source.get(canonical, pos) != pos:
                first = headers[source[canonical]]
                problems.append(
                    MappingProblem(header, "column mapped twice", f"{canonical} is mapped from {first} and {header}")
                )
                continue
            explicit[pos] = canonical
            if canonical != IGNORE:
                source[canonical] = pos
    return explicit, tuple(problems)


def match_header(kind: str, headers: Sequence[str], mapping: Mapping[str, str] | None = None) -> HeaderMatch:
    """Map the file's ``headers`` onto the canonical columns of ``kind`` (see :class:`HeaderMatch`).

    Parameters
    ----------
    kind : str
        Import kind.
    headers : sequence of str
        The file's header row (or the names given for a headerless file).
    mapping : mapping of str to str, optional
        Explicit file header -> column (see :func:`check_mapping`). It wins over the automatic alias match;
        headers it does not name still match automatically. A bad mapping is reported in
        ``HeaderMatch.problems``, never raised.

    Returns
    -------
    HeaderMatch
    """
    explicit: dict[int, str] = {}
    problems: tuple[MappingProblem, ...] = ()
    if mapping:
        explicit, problems = check_mapping(kind, headers, mapping)
        if problems:
            explicit = {}
    index = _alias_index(kind)
    columns = {name: pos for pos, name in explicit.items() if name != IGNORE}
    best: dict[str, tuple[int, int]] = {}  # canonical -> (alias rank, position)
    unmatched: list[int] = []
    hits: list[tuple[int, str, int]] = []
    for pos, header in enumerate(headers):
        if pos in explicit:
            continue
        found = index.get(normalize_header(header)) if str(header).strip() else None
        if found is None:
            unmatched.append(pos)
            continue
        name, rank = found
        hits.append((pos, name, rank))
        if name not in columns and (name not in best or rank < best[name][0]):
            best[name] = (rank, pos)
    columns.update({name: pos for name, (_, pos) in best.items()})
    shadowed = tuple((pos, name) for pos, name, _ in hits if columns[name] != pos)
    missing = tuple(name for name in required_columns(kind) if name not in columns)
    return HeaderMatch(
        columns=columns, unmatched=tuple(unmatched), shadowed=shadowed, missing=missing,
        mapped=tuple(sorted(explicit.items())), problems=problems,
    )  # fmt: skip


def automatic_roles(kind: str, headers: Sequence[str]) -> tuple[str | None, ...]:
    """Per header, the canonical column the automatic alias match reads from it, or None.

    None for a header no alias recognises and for one shadowed by a higher-priority alias of the same column.
    """
    match = match_header(kind, headers)
    by_pos = {pos: name for name, pos in match.columns.items()}
    return tuple(by_pos.get(pos) for pos in range(len(headers)))


def item_prefix(header: str) -> tuple[str, str] | None:
    """``(dimension, rest)`` when ``header`` starts with a dimension prefix (``pq_``, ``产品质量`` ...), else None.

    ``rest`` is what follows the prefix, without leading separators; it is empty for a bare prefix.
    """
    raw = unicodedata.normalize("NFKC", str(header)).strip()
    for prefix, dimension in ITEM_PREFIXES.items():
        if raw.casefold().startswith(prefix):
            rest = raw[len(prefix) :].lstrip(" _-.·:：")
            return dimension, rest
    return None


def new_item_code(header: str) -> tuple[str, str, str, str] | None:
    """``(item_code, dimension, label_en, label_zh)`` to register for a new prefixed item column, or None.

    ``pq_parking`` keeps its code; ``产品质量_包装`` becomes code ``pq_包装`` with Chinese label ``包装``.
    """
    found = item_prefix(header)
    if found is None or not found[1]:
        return None
    dimension, rest = found
    raw = unicodedata.normalize("NFKC", str(header)).strip()
    if raw[:3].casefold() in ITEM_PREFIXES:
        return raw[:3].casefold() + rest, dimension, raw, ""
    return _ITEM_CODE_PREFIX[dimension] + rest, dimension, "", rest


def header_fit(kind: str, headers: Sequence[str]) -> tuple[int, int]:
    """``(required columns found, all columns found)`` of ``kind`` in ``headers``, for telling kinds apart.

    Survey files also count prefixed or default item columns as found.
    """
    m = match_header(kind, headers)
    found = len(m.columns)
    if kind == "surveys":
        known = {normalize_header(c) for c in schema.DEFAULT_SURVEY_ITEMS}
        for pos in m.unmatched:
            h = headers[pos]
            if normalize_header(h) in known or item_prefix(h) is not None:
                found += 1
    n_required = len(required_columns(kind))
    return n_required - len(m.missing), found


def looks_like(kind: str, headers: Sequence[str]) -> str | None:
    """Another kind whose required columns all appear in ``headers`` and that fits clearly better, or None.

    Used to say "this looks like a transactions file" instead of a bare "missing required column".
    """
    own_required, own_found = header_fit(kind, headers)
    if own_required == len(required_columns(kind)):
        return None
    best: tuple[int, str] | None = None
    for other in KINDS:
        if other == kind:
            continue
        req, found = header_fit(other, headers)
        if req == len(required_columns(other)) and found > own_found and (best is None or found > best[0]):
            best = (found, other)
    return best[1] if best else None


def value_index(type_: str) -> dict[str, object]:
    """Normalised accepted cell value -> canonical value, for a coded type (``gender``, ``bool`` ...)."""
    index: dict[str, object] = {}
    for canonical, aliases in VALUES[type_].items():
        for alias in (str(canonical), *aliases):
            index.setdefault(normalize_header(alias), canonical)
    return index


def accepted_values(type_: str) -> tuple[str, ...]:
    """The canonical values of a coded type, as strings (for error messages and docs)."""
    return tuple(str(v) for v in VALUES[type_])


def markdown_tables(kinds: Iterable[str] = KINDS) -> str:
    """Markdown tables of every kind's columns and aliases, and of the accepted coded values."""
    out: list[str] = []
    for kind in kinds:
        out.append(f"### {kind}\n")
        out.append("| column | required | type | accepted headers |")
        out.append("| --- | --- | --- | --- |")
        for s in specs(kind):
            aliases = ", ".join(f"`{a}`" for a in s.aliases)
            out.append(f"| `{s.name}` | {'yes' if s.required else 'no'} | {s.type} | {aliases} |")
        out.append("")
    out.append("### Coded values\n")
    out.append("| type | value | accepted spellings |")
    out.append("| --- | --- | --- |")
    for type_, mapping in VALUES.items():
        for canonical, aliases in mapping.items():
            spelled = ", ".join(f"`{a}`" for a in aliases)
            out.append(f"| {type_} | `{canonical}` | {spelled} |")
    out.append("")
    out.append("### Survey item prefixes\n")
    out.append("| prefix | dimension |")
    out.append("| --- | --- |")
    for prefix, dimension in ITEM_PREFIXES.items():
        out.append(f"| `{prefix}` | {dimension} |")
    return "\n".join(out) + "\n"
