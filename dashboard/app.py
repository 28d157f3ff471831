"""Entry script and router: page config, shared sidebar, first-start data, and the navigation."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run dashboard/app.py` puts only dashboard/ on the path
    sys.path.insert(0, str(ROOT))

from dashboard import access, precompute, refresh_job, state, ui  # noqa: E402
from dashboard.data import common  # noqa: E402
from dashboard.i18n import LANGUAGES, fmt_date, fmt_number, t, tier_name  # noqa: E402

st.set_page_config(page_title="VIP customer management", page_icon="💎", layout="wide")


def _database_ready(url: str) -> bool:
    """Open the database, generating the demo mall on the embedded default's first start."""
    try:
        if common.has_data(url) or _generate_with_progress(url):
            return True
    except Exception as exc:  # noqa: BLE001 - shown to the user instead of a traceback
        st.error(t("error.database", state.lang(), name=common.display_name(url), reason=str(exc).splitlines()[0]))
        st.stop()
    st.info(t("setup.empty", state.lang()))
    return False


def _generate_with_progress(url: str) -> bool:
    if not common.is_default_database(url):
        return False
    bar = st.progress(0.0, text=t("setup.generating", state.lang(), members=fmt_number(common.DEMO_MEMBERS)))

    def on_progress(fraction: float, message: str) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=message)

    ready = common.ensure_demo_data(url, on_progress=on_progress)
    bar.empty()
    return ready


def _sidebar(url: str, version: str) -> None:
    lang_now = state.lang()
    st.sidebar.selectbox(
        t("sidebar.language", lang_now),
        options=list(LANGUAGES),
        format_func=LANGUAGES.get,
        key=state.LANG,
    )
    lang_now = state.lang()
    latest = common.load_latest_date(url, version)
    if latest is not None:
        first = common.load_first_date(url, version)  # the data's own span, in whatever years it lies
        st.sidebar.date_input(
            t("sidebar.period", lang_now),
            min_value=first,
            max_value=latest,
            key=state.PERIOD,
            help=t("sidebar.period_help", lang_now),
        )
        if (asked := state.period_adjusted()) is not None:
            _period_adjusted_caption(asked, first, latest, lang_now)
        if ignored := state.ignored_params():
            st.sidebar.caption(t("period.link_ignored", lang_now, params=", ".join(ignored)))
        _sidebar_filters(url, version, lang_now)
        fresh = common.load_freshness(url, version)
        st.sidebar.caption(
            t("sidebar.data_as_of", lang_now, date=fmt_date(latest, lang_now), members=fmt_number(fresh["members"], lang_now))
        )
    st.sidebar.toggle(t("sidebar.presentation", lang_now), key=state.PRESENT, help=t("sidebar.presentation_help", lang_now))
    access.sidebar(url, lang_now)
    st.sidebar.caption(t("sidebar.database", lang_now, name=common.display_name(url)))
    if precompute.running(url, version):
        st.sidebar.caption(t("sidebar.precomputing", lang_now))
    elif refresh_job.running(url, version):
        st.sidebar.caption(t("sidebar.preparing_pack", lang_now))


def _period_adjusted_caption(asked: tuple[dt.date | None, dt.date | None], first: dt.date | None, latest: dt.date,
                             lang: str) -> None:
    """Say that the period asked for (by the link, or before the data changed) was moved into the data's span."""
    dates = [fmt_date(d, lang) if d is not None else "…" for d in asked]
    st.sidebar.caption(t("period.adjusted", lang, asked=" – ".join(dates), first=fmt_date(first or latest, lang),
                         latest=fmt_date(latest, lang)))


def _sidebar_filters(url: str, version: str, lang: str) -> None:
    """Store and tier filters shared by every page (see dashboard/filters.py for what they keep)."""
    stores = ["", *common.load_stores(url, version)]  # "" = all stores
    if st.session_state.get(state.STORE) not in stores:  # e.g. a store that an import or a regeneration removed
        st.session_state[state.STORE] = ""
    st.sidebar.selectbox(t("sidebar.store", lang), stores, format_func=lambda s: s or t("sidebar.all_stores", lang),
                         key=state.STORE, help=t("sidebar.store_help", lang))
    st.session_state.setdefault(state.TIERS, list(state.ALL_TIERS))
    st.sidebar.multiselect(t("sidebar.tiers", lang), list(state.ALL_TIERS), format_func=lambda k: tier_name(k, lang),
                           key=state.TIERS, help=t("sidebar.tiers_help", lang))


def _pages(lang: str, admin: bool) -> dict[str, list]:
    """The navigation: sections and pages (the Administration page only with ``admin``)."""
    pages: dict[str, list] = {
        t("nav.executive", lang): [
            st.Page("../pages/overview.py", title=t("page.overview", lang), icon="📊", url_path="overview", default=True),
            # Any signed-in role may build the weekly meeting pack (personal data in it follow the role).
            st.Page("../pages/report.py", title=t("page.report", lang), icon="🗒️", url_path="report"),
            # pages:executive
        ],
        t("nav.marketing", lang): [
            st.Page("../pages/pyramid.py", title=t("page.pyramid", lang), icon="🔺", url_path="pyramid"),
            st.Page("../pages/migration.py", title=t("page.migration", lang), icon="🔀", url_path="migration"),
            st.Page("../pages/referrals.py", title=t("page.referrals", lang), icon="🤝", url_path="referrals"),
            st.Page("../pages/care.py", title=t("page.care", lang), icon="🎁", url_path="care"),
            st.Page("../pages/satisfaction.py", title=t("page.satisfaction", lang), icon="😊", url_path="satisfaction"),
            st.Page("../pages/complaints.py", title=t("page.complaints", lang), icon="📣", url_path="complaints"),
            st.Page("../pages/value.py", title=t("page.value", lang), icon="💰", url_path="value"),
            # pages:marketing
        ],
        t("nav.data", lang): [
            st.Page("../pages/data.py", title=t("page.data", lang), icon="🗄️", url_path="data"),
            # pages:data
        ],
    }
    if admin:
        pages[t("nav.data", lang)].append(
            st.Page("../pages/admin.py", title=t("page.admin", lang), icon="🛡️", url_path="admin"))
    return pages


def main() -> None:
    url = common.database_url()
    ready = _database_ready(url)
    version = common.current_version(url) if ready else "0"
    latest = common.load_latest_date(url, version) if ready else None
    first = common.load_first_date(url, version) if ready else None
    state.load_from_query_params(latest, common.load_stores(url, version) if ready else (), first=first)
    state.keep_period_within(latest, first)
    if access.signed_in(url) is None:  # demo mode needs nobody to sign in
        # The link's page stays the page to show after sign-in; the sign-in page is in the link's language.
        # Every page is known here, so a link to any of them (the Administration page too) is kept, not "not found".
        st.navigation(_pages(state.lang(), admin=True), position="hidden")
        access.sign_in_page(url)  # stops the run
    if ready:
        precompute.start(url, version, latest)
        refresh_job.start(url, version, latest)
    _sidebar(url, version)
    state.sync_query_params()
    lang = state.lang()
    ui.presentation_frame()

    # Administrators only see the audit trail, rollbacks and users; the page checks the role again.
    st.navigation(_pages(lang, admin=access.may("view_audit"))).run()


main()
