"""The explorer's demo models (``rnnlab demo``).

Which file has what:

* ``build.py`` the recipes, training them once on the built-in corpus and caching them
  (``ensure_demo``, ``train_demo``, ``demo_root``); serving them is
  ``rnnlab.serve.demo.demo_registry``.
"""
