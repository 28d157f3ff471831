"""The I/O boundary, by page: each page's cached loaders and the default view the background precompute warms.

* ``common``: the shared engine and database URL, first-start demo data, objects shared across sessions
  (:func:`common.shared`), the data token, dates, freshness, stores, margin coverage and the saved settings.
* ``members``: the member features every page starts from and the sidebar's store and tier choice as member ids
  (filtered by the pure ``dashboard.members_filter.restrict``).
* ``overview``, ``pyramid``, ``migration``, ``complaints``, ``satisfaction``, ``referrals``, ``care``, ``value``: one
  module per page, its loaders and ``warm_default`` (the calls its default view makes, for ``dashboard.precompute``).

Every loader takes the URL and the data token (version and a random part, ``db.data_token``) as arguments so a
cached result is dropped as soon as an import or a demo regeneration bumps the version. Every loader the background
precompute (``dashboard.precompute``, started after each data change) fills persists its results on disk
(``persist="disk"``), the small widget-driven ones too: a restarted server, and every new browser session, reads what
the precompute or an earlier visit computed instead of aggregating a million members again. Only the sidebar's
member-id filters and the settings history stay in memory.
"""
