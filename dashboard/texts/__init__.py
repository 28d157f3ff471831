"""Visible strings by area: each module holds ``TEXT = {key: {"en": ..., "zh": ...}}``, merged by dashboard.i18n."""
