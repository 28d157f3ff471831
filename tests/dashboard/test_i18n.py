"""Every visible string exists in both languages; numbers and dates follow the locale."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from dashboard import i18n


@pytest.mark.parametrize("key", sorted(i18n.TEXT))
def test_every_text_has_english_and_chinese_with_the_same_placeholders(key):
    entry = i18n.TEXT[key]
    assert entry["en"].strip() and entry["zh"].strip()
    placeholders = {lang: set(re.findall(r"{(\w+)}", entry[lang])) for lang in ("en", "zh")}
    assert placeholders["en"] == placeholders["zh"]


def test_chinese_text_is_actually_chinese_for_page_titles():
    assert re.search(r"[\u4e00-\u9fff]", i18n.t("page.overview", "zh"))


@pytest.mark.parametrize(
    ("tier", "lang", "expected"),
    [("A", "en", "A Platinum"), ("B", "zh", "B 黄金层"), ("C", "zh", "C 钢铁层"), ("D", "en", "D Lead")],
)
def test_tier_names_use_the_words_of_the_mall_documents(tier, lang, expected):
    assert i18n.tier_name(tier, lang) == expected


@pytest.mark.parametrize(
    ("value", "lang", "expected"),
    [
        (1234567.0, "en", "¥1,234,567"),
        (1234567.0, "zh", "¥123.5万"),
        (-2500.0, "en", "-¥2,500"),
        (350_000_000.0, "zh", "¥3.50亿"),
        (None, "en", "n/a"),
        (float("nan"), "zh", "无数据"),
    ],
)
def test_money_is_formatted_for_the_locale(value, lang, expected):
    assert i18n.fmt_money(value, lang) == expected


def test_dates_and_percentages_follow_the_locale():
    day = dt.date(2026, 11, 23)
    assert i18n.fmt_date(day, "en") == "23 Nov 2026"
    assert i18n.fmt_date(day, "zh") == "2026年11月23日"
    assert i18n.fmt_percent(0.3, "en", 0) == "30%"


def test_missing_key_falls_back_to_the_key_and_placeholders_are_filled():
    assert i18n.t("no.such.key", "zh") == "no.such.key"
    assert "1,000" in i18n.t("sidebar.data_as_of", "en", date="x", members="1,000")


def test_the_currency_symbol_is_configurable_in_amounts_and_in_every_label(monkeypatch):
    labelled = [(key, lang) for key, entry in i18n.TEXT.items() for lang in i18n.LANGUAGES if "¥" in entry[lang]]
    assert len(labelled) > 10  # axis titles and column names carry the currency
    monkeypatch.setattr(i18n, "CURRENCY", "HK$")
    assert i18n.fmt_money(-1234.4, "en") == "-HK$1,234"
    for key, lang in labelled:
        text = i18n.t(key, lang)
        assert "¥" not in text and "HK$" in text, (key, lang)
