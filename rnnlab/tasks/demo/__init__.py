"""The demo's models: shipped in the package, pre-trained on real data.

recipes.py   every shipped model declared once: data, settings, seed, step budget (no torch)
build.py     ``rnnlab demo --build``: train each recipe from ../shared/data, compact the
             weights into models/<name>, measure, record models/manifest.json
shipped.py   where the shipped models are, the manifest, ``measure`` (held-out metrics)
sources.py   which models ``rnnlab demo`` serves (shipped, or trained live)
live.py      ``rnnlab demo --retrain``: the five word models trained live, with a progress bar
recall.py    the recall task behind the gradient view's default pair
models/      the shipped weights, manifest.json and NOTICE.md (sources and licences)
"""
