"""The web dashboard and REST API (``shatterbelt serve``; needs the ``serve`` extra).

* :mod:`.app` — the ASGI application: the API under ``/api``, its OpenAPI spec, the page;
* :mod:`.jobs` — a job's request, its validation (scenario schema and caps) and its run;
* :mod:`.store` — the jobs in an embedded SQLite database under the data folder;
* :mod:`.worker` — the bounded pool of worker processes that run the jobs;
* :mod:`.results` — summaries, panel slices, events, figures and comparisons read back;
* ``static/`` — the dashboard (HTML, CSS, JS shipped in the package; nothing from a CDN).

From Python (any ASGI server runs the application; ``shatterbelt serve`` uses uvicorn)::

    from shatterbelt.serve import Caps, ServeConfig, create_app
    app = create_app(ServeConfig(data="out/serve", token=None, workers=2, caps=Caps(max_scale=0.02)))
"""

from __future__ import annotations

from .app import create_app
from .config import TOKEN_ENV, Caps, ServeConfig, check_bind, is_loopback, loopback_hosts, resolve_token

__all__ = ["TOKEN_ENV", "Caps", "ServeConfig", "check_bind", "create_app", "is_loopback", "loopback_hosts",
           "resolve_token"]
