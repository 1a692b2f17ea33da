"""The models shipped in the package: each reproduces the metric its build recorded, on its
held-out split, from the compact weights that ship; all of them fit the size budget; the
manifest says how each was made and the NOTICE where its data came from."""

from __future__ import annotations

import pytest

from rnnlab.tasks.demo.recipes import BY_NAME, DATA, RECIPES
from rnnlab.tasks.demo.shipped import NOTICE, SHIPPED, available, manifest, measure, model_dir

MAX_BYTES = 20_000_000  # everything under models/, the budget
# metric -> allowed difference: the weights are the same bytes, so only float summation order
# (thread count) may move the numbers
TOLERANCE = {"val_loss": 2e-3, "val_bpc": 2e-3, "val_ppl": 0.005, "recall_accuracy": 0.01,
             "test_bleu_greedy": 0.05, "test_chrf_greedy": 0.05, "samples_accuracy": 1e-9}  # fmt: skip


def test_every_recipe_is_shipped_and_recorded():
    man = manifest()
    assert available() == [r.name for r in RECIPES], (
        "run `rnnlab demo --build` for the missing ones"
    )
    for name, e in man.items():
        r = BY_NAME[name]
        assert e["seed"] == r.settings["seed"] and e["settings"] == r.settings, (
            f"{name}: the recipe changed since its build: rebuild it (`{e['command']}`)"
        )
        assert len(e["data_sha256"]) == 64 and e["training_seconds"] > 0 and e["steps"] > 0
        assert (
            e["metrics"] and e["size_bytes"] > 0 and e["command"].startswith("rnnlab demo --build")
        )


def test_shipped_models_fit_the_size_budget():
    total = sum(f.stat().st_size for f in SHIPPED.rglob("*") if f.is_file())
    assert total <= MAX_BYTES, f"shipped models take {total / 1e6:.1f} MB"
    samples = list((model_dir("speech") / "samples").glob("*.wav"))
    assert 10 <= len(samples) <= 20


def test_notice_names_every_source_and_licence():
    text = NOTICE.read_text(encoding="utf-8")
    for r in RECIPES:
        assert f"`{r.name}`" in text, f"NOTICE.md does not describe {r.name}"
    for needle in ("Tatoeba", "CC-BY 2.0", "Free Spoken Digit Dataset", "CC BY-SA 4.0",
                   "Shakespeare", "rnnlab demo --build"):  # fmt: skip
        assert needle in text
    assert set(DATA) >= {r.data for r in RECIPES}


@pytest.mark.parametrize("name", [r.name for r in RECIPES])
def test_shipped_model_reproduces_its_recorded_metric(name):
    recorded = manifest()[name]["metrics"]
    got = measure(BY_NAME[name], model_dir(name))
    assert set(got) == set(recorded)
    for k, v in recorded.items():
        assert got[k] == pytest.approx(v, abs=TOLERANCE[k]), f"{name} {k}: {got[k]} vs recorded {v}"


def test_pages_serve_the_shipped_translator_and_recogniser(monkeypatch):
    from fastapi.testclient import TestClient

    from rnnlab.serve.app import create_app
    from rnnlab.serve.registry import ModelRegistry

    monkeypatch.delenv("RNNLAB_TRANSLATE_RUN", raising=False)
    monkeypatch.delenv("RNNLAB_SPEECH_RUN", raising=False)
    client = TestClient(create_app(ModelRegistry()))
    info = client.get("/api/translate/info").json()
    assert info["run"] == "shipped with rnnlab" and not info["numbers_only"]
    assert info["card"]["metrics"] == manifest()["translate"]["metrics"] and info["examples"]
    assert "/" not in info["run"] and "../" not in info["pairs"]  # no server paths
    t = client.post("/api/translate", json={"text": "I love eating pizza.", "beam": 1}).json()
    assert t["text"] and "six cent" not in t["text"]  # a sentence, not number words
    m = client.get("/api/speech/model").json()
    assert m["available"] and m["run"] == "shipped with rnnlab" and len(m["samples"]) == 20
    name = m["samples"][0]
    assert client.get(f"/api/speech/sample/{name}").content[:4] == b"RIFF"
    d = client.post(f"/api/speech/transcribe?sample={name}").json()
    assert d["digits"] and len(d["posteriors"][0]) == 11
