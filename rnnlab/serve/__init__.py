"""The web explorer: a FastAPI JSON API over trained models and static pages (plain JS + SVG).

``rnnlab demo`` trains (once) and serves the default models; ``rnnlab serve RUN...`` serves runs.

Which file has what: ``app.py`` (``create_app``: the routers, error handlers, static files),
``api.py`` (the ``/api`` endpoints), ``schemas.py`` (their request and response bodies),
``deps.py`` (FastAPI dependencies: registry, named model, game store), ``analysis.py`` (what the
explorer computes from a model), ``registry.py`` (which models are served), ``guard.py`` (body
and time limits, security headers), ``server.py`` (uvicorn on a free port), ``game/`` (the RNN
Game), ``views/`` (per-task pages), ``static/`` (the pages; ``lib.js`` is what they share).
"""
