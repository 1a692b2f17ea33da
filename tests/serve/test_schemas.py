"""The response models: /openapi.json documents every JSON reply of the API and the game, and
real replies (tiny trained models, conftest.py) validate against them and are exactly what the
analysis functions and game rules return (a declared model neither drops nor adds a key)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from rnnlab.serve import analysis, cards
from rnnlab.serve import gradients as grads
from rnnlab.serve import schemas as S
from rnnlab.serve.app import create_app
from rnnlab.serve.game import schemas as G
from rnnlab.serve.registry import ModelRegistry

TEXT = "The cat sat on the mat"
# (method, path) -> the schema of its 200 reply
REPLIES = {
    ("get", "/api/models"): "Models",
    ("get", "/api/models/{name}"): "Card",
    ("post", "/api/trace"): "Trace",
    ("post", "/api/gradients"): "Gradients",
    ("post", "/api/gradients/compare"): "GradientsCompared",
    ("post", "/api/generate"): "Generated",
    ("post", "/api/predict"): "Prediction",
    ("post", "/api/neuron"): "Neuron",
    ("get", "/api/pages"): "Pages",
    ("get", "/api/game/models"): "GameModels",
    ("post", "/api/game/new"): "GameState",
    ("get", "/api/game/session/{sid}"): "GameState",
    ("post", "/api/game/guess"): "GuessReply",
    ("get", "/api/game/memory/levels"): "MemoryLevels",
    ("post", "/api/game/memory/answer"): "MemoryResult",
    ("get", "/api/game/memory/curve"): "MemoryCurve",
    ("post", "/api/game/hidden/new"): "HiddenStarted",
    ("post", "/api/game/hidden/next"): "HiddenNext",
    ("post", "/api/game/hidden/answer"): "HiddenResult",
    ("get", "/api/playground/knobs"): "KnobsInfo",  # issue 19
    ("post", "/api/playground/run"): "RunInfo",
    ("get", "/api/playground/run"): "RunState",
}


def plain(obj):
    """``obj`` as the JSON a client reads (tuples become lists)."""
    return json.loads(json.dumps(obj))


def test_openapi_lists_the_response_schemas(api_client):
    spec = api_client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    for (method, path), name in REPLIES.items():
        assert name in schemas, name
        ok = spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]
        assert ok["schema"] == {"$ref": f"#/components/schemas/{name}"}, (path, ok)
    # a dependency that reads the model name parses the same body: it stays one flat object
    body = spec["paths"]["/api/trace"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/TraceRequest"}
    # nested parts are documented too
    assert {"Step", "Projection", "Excitation", "Scores", "RnnResult", "MemoryPick"} <= set(schemas)


def test_api_replies_validate_and_are_the_analysis_output(api_client, lm_registry):
    lm = lm_registry.get("deep")
    cases = [
        (
            S.Trace,
            "/api/trace",
            {"model": "deep", "text": TEXT, "k": 3},
            analysis.trace(lm, TEXT, 3),
        ),
        (
            S.Gradients,
            "/api/gradients",
            {"model": "deep", "text": TEXT},
            grads.gradients(lm, TEXT),
        ),
        (
            S.Generated,
            "/api/generate",
            {"model": "deep", "prompt": "The", "length": 5, "seed": 1},
            analysis.generate(lm, "The", 5, seed=1),
        ),
        (S.Prediction, "/api/predict", {"model": "deep", "text": TEXT}, analysis.predict(lm, TEXT)),
        (
            S.Neuron,
            "/api/neuron",
            {"model": "deep", "layer": 1, "unit": 3},
            analysis.neuron(lm, 1, 0, 3),
        ),
    ]
    for schema, path, body, want in cases:
        got = api_client.post(path, json=body).json()
        schema.model_validate(got)
        assert got == plain(want), path
    bi = api_client.post("/api/trace", json={"model": "bi", "text": TEXT}).json()
    S.Trace.model_validate(bi)
    assert bi == plain(analysis.trace(lm_registry.get("bi"), TEXT))
    for name in lm_registry.names():
        card = api_client.get(f"/api/models/{name}").json()
        S.Card.model_validate(card)
        assert card == plain(cards.card(lm_registry.get(name)))
    S.Models.model_validate(api_client.get("/api/models").json())
    S.Pages.model_validate(api_client.get("/api/pages").json())


def test_neuron_without_held_out_text_keeps_its_short_shape(lm_registry):
    reg = ModelRegistry()
    reg.add_model("rnn", lm_registry.get("rnn").model, heldout="")
    with TestClient(create_app(reg)) as c:
        d = c.post("/api/neuron", json={"model": "rnn", "unit": 0}).json()
    S.Neuron.model_validate(d)
    assert set(d) == {"unit", "top", "bottom", "sample", "note"}


@pytest.fixture(scope="module")
def game_client(game_runs):
    reg = ModelRegistry()
    for name in ("rnn", "gru"):
        reg.add_run(name, game_runs / name, heldout="the cat ran to one mat .\n")
    with TestClient(create_app(reg)) as c:
        yield c


def test_game_replies_validate(game_client):
    c = game_client
    G.GameModels.model_validate(c.get("/api/game/models").json())
    for mode in ("easy", "typed"):
        st = c.post("/api/game/new", json={"model": "gru", "mode": mode, "seed": 1}).json()
        G.GameState.model_validate(st)
        assert "summary" not in st  # absent, not null, before the end
        assert c.get(f"/api/game/session/{st['session']}").json() == st
        while not st["finished"]:
            body = {"session": st["session"], "guess": "the"}
            if mode == "easy":  # a guess among the choices
                body.update(guess=st["choices"][0], confidence=0.3)
            reply = c.post("/api/game/guess", json=body).json()
            G.GuessReply.model_validate(reply)
            st = reply["state"]
        assert set(st) >= {"summary"} and "shown" not in st
        G.Summary.model_validate(st["summary"])
    G.MemoryLevels.model_validate(c.get("/api/game/memory/levels?kind=pronoun").json())
    ans = c.post(
        "/api/game/memory/answer", json={"kind": "pronoun", "level": 1, "choice": "he"}
    ).json()
    G.MemoryResult.model_validate(ans)
    G.MemoryCurve.model_validate(c.get("/api/game/memory/curve?items=2").json())
    h = c.post("/api/game/hidden/new", json={"length": 4, "seed": 0}).json()
    G.HiddenStarted.model_validate(h)
    for _ in range(5):
        nxt = c.post("/api/game/hidden/next", json={"session": h["session"]}).json()
        G.HiddenNext.model_validate(nxt)
        assert ("fact" in nxt) != ("question" in nxt)
    r = c.post("/api/game/hidden/answer", json={"session": h["session"], "answer": 0}).json()
    G.HiddenResult.model_validate(r)
