"""Host integrations: where telemetry meets the code whose errors it reports.

One module per host, each behind a tiny interface and imported only when that host is in use:

- :mod:`.crawl4ai` — capture points inside the real crawl4ai (crawl steps, ``arun``,
  ``arun_many``), the classification of what a crawl4ai bug is, and the ``crwl telemetry``
  mount. The post-import hook (:mod:`crawl4ai.telemetry._hook`) or ``telemetry.install()``
  activates it.
- :mod:`.server` — the init call and ASGI middleware for Crawl4AI's Docker/API server.
"""
