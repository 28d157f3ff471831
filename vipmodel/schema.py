"""The mall's data model (SQLAlchemy 2 declarative).

Conventions that every module relies on
---------------------------------------
* Member ids, transaction ids and complaint ids are *strings*: real CRM/POS exports use codes such as
  ``"M000123"`` or ``"VIP-0042"``, and numeric-looking ids keep their leading zeros.
* Money columns are ``Numeric(14, 2)`` (exact in PostgreSQL) returned to Python as ``float``.
* A transaction row records ``amount`` and ``gross_margin`` as on the original sale (``amount >= 0``);
  ``is_return = True`` reverses them. Net sales are therefore ``sum(amount * sign)`` where
  ``sign = -1`` for returns, ``+1`` otherwise (see :func:`vipmodel.schema.signed`).
* ``gross_margin`` is the margin at list price, *before* the member's ``discount``; profit contribution is
  therefore margin - discount - care cost - complaint compensation (DOMAIN.md). It is NULL when the export
  gave none (a POS export without margins): analyses then estimate it from the mall's margin rates
  (:mod:`vipmodel.margins`), never count it as 0.
* Personal data (``name``, ``phone``, ``birthday``) lives in its own columns of ``members`` so views can
  mask it; no other table copies it.
* ``settings`` rows are versioned and never updated in place (an ``UPDATE`` raises, see below).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, get_args

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
    case,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

# Member ids are sorted and grouped by every analysis (GROUP BY member over millions of rows). PostgreSQL
# compares text under the database's collation (e.g. en_US.UTF-8, or C.UTF-8 through libc), which made the
# sort of a year's transactions 3x slower than the byte order of COLLATE "C"; byte order is also Python's
# str order for UTF-8, so results come back in the order pandas would sort them. SQLite compares bytes anyway.
MemberId = String(64).with_variant(String(64, collation="C"), "postgresql")

MONEY = Numeric(14, 2, asdecimal=False)

Tier = Literal["A", "B", "C", "D"]
"""A tier of the customer pyramid: A (Platinum) best .. D (Lead); names and colours belong to the app."""
TIERS: tuple[Tier, ...] = get_args(Tier)
GENDERS: tuple[str, ...] = ("F", "M", "U")
CARE_KINDS: tuple[str, ...] = (
    "phone_greeting",
    "birthday_gift",
    "holiday_card",
    "sms",
    "event_invitation",
    "lecture",
)
COMPLAINT_CATEGORIES: tuple[str, ...] = ("product", "service")
SEVERITIES: tuple[int, ...] = (1, 2, 3)  # 1 minor, 2 moderate, 3 serious
DIMENSIONS: tuple[str, ...] = ("product_quality", "sales_service", "corporate_image")
USER_ROLES: tuple[str, ...] = ("viewer", "marketing", "admin")  # vipmodel.auth.ROLES
SETTING_KINDS: tuple[str, ...] = ("tier_rules", "satisfaction_weights", "care_plan", "margin_rates")

# Default questionnaire: item code -> (dimension, English text, Chinese text).
DEFAULT_SURVEY_ITEMS: dict[str, tuple[str, str, str]] = {
    "pq_1": ("product_quality", "Product quality meets my needs", "商品质量满足我的需要"),
    "pq_2": ("product_quality", "Product range and freshness", "商品种类齐全、新颖"),
    "pq_3": ("product_quality", "Value for money", "物有所值"),
    "ss_1": ("sales_service", "Staff are friendly and helpful", "导购热情、乐于助人"),
    "ss_2": ("sales_service", "Staff know the products", "导购熟悉商品"),
    "ss_3": ("sales_service", "Checkout, delivery and after-sales", "收银、送货与售后服务"),
    "ci_1": ("corporate_image", "The mall is trustworthy", "商场值得信赖"),
    "ci_2": ("corporate_image", "Environment and atmosphere", "购物环境与氛围"),
    "ci_3": ("corporate_image", "I am proud to be a member", "作为会员我感到自豪"),
}


def _in(column: str, values: tuple) -> str:
    quoted = ", ".join(repr(v) if isinstance(v, str) else str(v) for v in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    """Declarative base of every table."""


class Member(Base):
    __tablename__ = "members"

    member_id: Mapped[str] = mapped_column(MemberId, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(100))  # personal data
    phone: Mapped[str | None] = mapped_column(String(32))  # personal data
    birthday: Mapped[dt.date | None] = mapped_column(Date)  # personal data
    gender: Mapped[str] = mapped_column(String(1), default="U")
    join_date: Mapped[dt.date] = mapped_column(Date, index=True)
    home_store: Mapped[str | None] = mapped_column(String(64), index=True)
    channel: Mapped[str | None] = mapped_column(String(32))
    referred_by: Mapped[str | None] = mapped_column(
        MemberId, ForeignKey("members.member_id", ondelete="SET NULL"), index=True
    )

    __table_args__ = (
        CheckConstraint(_in("gender", GENDERS), name="ck_members_gender"),
        CheckConstraint("referred_by IS NULL OR referred_by <> member_id", name="ck_members_not_self_referred"),
    )


class Transaction(Base):
    __tablename__ = "transactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    txn_id: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[str] = mapped_column(MemberId, ForeignKey("members.member_id", ondelete="CASCADE"))
    ts: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    store: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(64))
    quantity: Mapped[int | None] = mapped_column(Integer)
    amount: Mapped[float] = mapped_column(MONEY)
    gross_margin: Mapped[float | None] = mapped_column(MONEY)  # NULL: not in the export, estimated
    discount: Mapped[float] = mapped_column(MONEY, default=0.0)
    is_return: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        CheckConstraint("amount >= 0", name="ck_transactions_amount_nonneg"),
        CheckConstraint("discount >= 0", name="ck_transactions_discount_nonneg"),
        Index("ix_transactions_member_ts", "member_id", "ts"),
    )


class CareAction(Base):
    __tablename__ = "care_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(MemberId, ForeignKey("members.member_id", ondelete="CASCADE"))
    action_date: Mapped[dt.date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    cost: Mapped[float] = mapped_column(MONEY, default=0.0)
    campaign_id: Mapped[str | None] = mapped_column(String(64), index=True)

    __table_args__ = (
        CheckConstraint(_in("kind", CARE_KINDS), name="ck_care_actions_kind"),
        CheckConstraint("cost >= 0", name="ck_care_actions_cost_nonneg"),
        UniqueConstraint("member_id", "action_date", "kind", name="uq_care_actions_natural"),
        Index("ix_care_actions_member_date", "member_id", "action_date"),
    )


class Complaint(Base):
    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    complaint_id: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[str] = mapped_column(MemberId, ForeignKey("members.member_id", ondelete="CASCADE"))
    complaint_date: Mapped[dt.date] = mapped_column(Date, index=True)
    category: Mapped[str] = mapped_column(String(16))
    severity: Mapped[int] = mapped_column(SmallInteger, default=1)
    resolved_date: Mapped[dt.date | None] = mapped_column(Date)
    resolution: Mapped[str | None] = mapped_column(String(200))
    compensation_cost: Mapped[float] = mapped_column(MONEY, default=0.0)

    __table_args__ = (
        CheckConstraint(_in("category", COMPLAINT_CATEGORIES), name="ck_complaints_category"),
        CheckConstraint(_in("severity", SEVERITIES), name="ck_complaints_severity"),
        CheckConstraint("compensation_cost >= 0", name="ck_complaints_cost_nonneg"),
        CheckConstraint(
            "resolved_date IS NULL OR resolved_date >= complaint_date", name="ck_complaints_resolved_after"
        ),
        Index("ix_complaints_member_date", "member_id", "complaint_date"),
    )


class SurveyItem(Base):
    __tablename__ = "survey_items"

    item_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(32))
    label_en: Mapped[str] = mapped_column(String(200), default="")
    label_zh: Mapped[str] = mapped_column(String(200), default="")

    __table_args__ = (CheckConstraint(_in("dimension", DIMENSIONS), name="ck_survey_items_dimension"),)


class SurveyResponse(Base):
    __tablename__ = "survey_responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(MemberId, ForeignKey("members.member_id", ondelete="CASCADE"))
    survey_date: Mapped[dt.date] = mapped_column(Date, index=True)
    expectation: Mapped[int | None] = mapped_column(SmallInteger)  # 1-7, what the member expected overall

    __table_args__ = (
        UniqueConstraint("member_id", "survey_date", name="uq_survey_responses_natural"),
        CheckConstraint("expectation IS NULL OR expectation BETWEEN 1 AND 7", name="ck_survey_expectation"),
    )


class SurveyAnswer(Base):
    __tablename__ = "survey_answers"

    response_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("survey_responses.id", ondelete="CASCADE"), primary_key=True
    )
    item_code: Mapped[str] = mapped_column(String(32), ForeignKey("survey_items.item_code"), primary_key=True)
    score: Mapped[int] = mapped_column(SmallInteger)

    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 7", name="ck_survey_answers_score"),)


class Setting(Base):
    """A versioned setting (tier rules, satisfaction weights, care plan). Rows are never updated."""

    __tablename__ = "settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict] = mapped_column(JSON)
    author: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("kind", "version", name="uq_settings_kind_version"),
        CheckConstraint(_in("kind", SETTING_KINDS), name="ck_settings_kind"),
        CheckConstraint("version >= 1", name="ck_settings_version_positive"),
    )


class ImportLog(Base):
    """One row per file imported (data freshness, audit)."""

    __tablename__ = "import_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    file_name: Mapped[str] = mapped_column(String(300))
    file_sha256: Mapped[str] = mapped_column(String(64))
    rows_read: Mapped[int] = mapped_column(Integer)
    rows_written: Mapped[int] = mapped_column(Integer)
    rows_rejected: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime)


class DatasetInfo(Base):
    """Key/value facts about the loaded data set (e.g. ``demo_ground_truth``, ``generated_at``)."""

    __tablename__ = "dataset_info"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class User(Base):
    """A person who may sign in: a role and an argon2 password hash (never the password)."""

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(100), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(200))  # None: signs in through the mall's OIDC only
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (CheckConstraint(_in("role", USER_ROLES), name="ck_users_role"),)


class AuditEntry(Base):
    """Who did what, when, with the state before and after (settings, imports, regenerations, sign-ins, users)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    username: Mapped[str] = mapped_column(String(100), index=True)
    action: Mapped[str] = mapped_column(String(32), index=True)
    target: Mapped[str] = mapped_column(String(300), default="")
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)


CAMPAIGN_ARMS: tuple[str, ...] = ("treated", "holdout")


class CampaignRecord(Base):
    """A recorded retention campaign (:mod:`vipmodel.campaigns`): when, which draw, which actions, who recorded it.

    The random assignment lives in ``campaign_members``; keeping both in the database (not only in the Python
    object that drew them) is what lets the uplift be measured a year later, after any number of restarts.
    """

    __tablename__ = "campaigns"

    campaign_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    start_date: Mapped[dt.date] = mapped_column(Date, index=True)
    seed: Mapped[int] = mapped_column(Integer)
    holdout_share: Mapped[float] = mapped_column(Float)
    action_by_tier: Mapped[dict] = mapped_column(JSON)  # {tier: [care actions]}
    unit_costs: Mapped[dict] = mapped_column(JSON)  # {care action: yuan}
    author: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(String(500), default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (CheckConstraint("holdout_share > 0 AND holdout_share < 1", name="ck_campaigns_holdout_share"),)


class CampaignMember(Base):
    """One member's arm in one campaign (``treated`` receives the actions, ``holdout`` does not)."""

    __tablename__ = "campaign_members"

    campaign_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("campaigns.campaign_id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[str] = mapped_column(
        MemberId, ForeignKey("members.member_id", ondelete="CASCADE"), primary_key=True, index=True
    )
    tier: Mapped[str] = mapped_column(String(1))
    arm: Mapped[str] = mapped_column(String(8))

    __table_args__ = (
        CheckConstraint(_in("tier", TIERS), name="ck_campaign_members_tier"),
        CheckConstraint(_in("arm", CAMPAIGN_ARMS), name="ck_campaign_members_arm"),
    )


@event.listens_for(Setting, "before_update")
def _settings_are_append_only(mapper, connection, target) -> None:  # noqa: ARG001 - SQLAlchemy signature
    raise ValueError("settings are versioned: save a new version instead of updating version in place")


members = Member.__table__
transactions = Transaction.__table__
care_actions = CareAction.__table__
complaints = Complaint.__table__
survey_items = SurveyItem.__table__
survey_responses = SurveyResponse.__table__
survey_answers = SurveyAnswer.__table__
settings = Setting.__table__
import_log = ImportLog.__table__
dataset_info = DatasetInfo.__table__
users = User.__table__
audit_log = AuditEntry.__table__
campaigns = CampaignRecord.__table__
campaign_members = CampaignMember.__table__


def signed(column: ColumnElement) -> ColumnElement:
    """``column`` with the sign of the transaction: negated for returns (``is_return``)."""
    return case((transactions.c.is_return, -column), else_=column)
