"""The web explorer: a FastAPI JSON API over trained models and static pages (plain JS + SVG).

``rnnlab demo`` trains (once) and serves the default models; ``rnnlab serve RUN...`` serves runs.
"""
