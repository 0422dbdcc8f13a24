"""Read models: SQL tables folded from the event log, queried by the REST API and the UI.

* ``tables``: the tables, named after Airflow's REST API v2 resources (SQLite and PostgreSQL).
* ``migrations.open_readmodels(url)``: an ``AsyncEngine`` on a migrated database
  (``sqlite+aiosqlite:///...`` standalone, ``postgresql+asyncpg://...`` distributed).
* ``projector.Projector(engine, log)``: ``await start()``, then ``run()`` in a task; each batch of
  events and its offsets commit in one transaction. ``wait_for(position_after(records), timeout)``
  gives read-your-writes to a caller that just appended ``records``.
* ``rebuild.rebuild(engine, log)``: drop the tables and replay from offset 0 (``couture
  projections rebuild``); the result is identical to what live projection built.
* ``fold``: the pure mapping from each event type to row changes, idempotent under redelivery.
"""
