"""The I/O boundary, by page: each page's cached loaders and the default view the background precompute warms.

* ``common``: the shared engine and database URL, first-start demo data, objects shared across sessions
  (:func:`common.shared`), the data token, dates, freshness, stores, margin coverage and the saved settings.
* ``members``: the member features every page starts from and the sidebar's store and tier choice as member ids
  (filtered by the pure ``dashboard.members_filter.restrict``).
* ``overview``, ``pyramid``, ``migration``, ``complaints``, ``satisfaction``, ``referrals``, ``care``, ``value``: one
  module per page, its loaders and ``warm_default`` (the calls its default view makes, for ``dashboard.precompute``).

* ``stored``: heavy results kept in the mall's database, shared by every app server on it (``@stored``).

Every loader takes the URL and the data token (version and a random part, ``db.data_token``, with the model code's
version) as arguments so a cached result is dropped as soon as an import or a demo regeneration bumps the version.
Every loader the background precompute (``dashboard.precompute``, started after each data change) fills is
``@stored``: under ``st.cache_data`` (this server's memory) it reads the result the precompute stored in the
database, and computes only when none is there. A restarted server, a second server and every new browser session
read what the precompute computed instead of aggregating a million members again. Only the sidebar's member-id
filters, the dates, freshness, stores and the settings history stay in memory alone.
"""
