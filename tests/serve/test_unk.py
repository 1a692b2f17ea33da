"""Unknown words are visible: every reply that returns tokens a person typed flags, aligned 1:1,
the ones the model reads as ``<unk>`` (a char model: U+FFFD), checked against the tokenizer
itself; a step whose target is unknown is marked, and ``mean_bits`` leaves it out."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from rnnlab.serve.app import create_app
from rnnlab.serve.registry import ModelRegistry

ODD = "zyzzyvas"  # in no training sentence of the tiny models
TEXT = f"The cat saw {ODD} in the house"


def expected_unk(lm, text: str) -> list[bool]:
    """The flags straight from the tokenizer: ids equal to ``unk_id`` (plus the start step)."""
    tok = lm.tokenizer
    flags = [i == tok.unk_id for i in tok.encode(text)]
    return [False, *flags] if lm.causal and tok.eos_id is not None else flags


def test_trace_flags_exactly_the_unknown_word(api_client, lm_registry):
    for name in ("rnn", "bi"):
        lm = lm_registry.get(name)
        assert ODD not in lm.tokenizer.stoi
        d = api_client.post("/api/trace", json={"model": name, "text": TEXT}).json()
        want = expected_unk(lm, TEXT)
        assert d["unk"] == want and len(d["unk"]) == len(d["tokens"])
        assert [d["tokens"][i] for i, u in enumerate(d["unk"]) if u] == [ODD]
        # the step whose target is the unknown word: the next-word model predicts it one step
        # earlier, the fill-in model at the word itself
        at = d["tokens"].index(ODD)
        marked = [t for t, s in enumerate(d["steps"]) if s["target_unk"]]
        assert marked == ([at - 1] if lm.causal else [at])
        assert d["steps"][marked[0]]["target"] == ODD


def test_mean_bits_leaves_unknown_targets_out(api_client):
    d = api_client.post("/api/trace", json={"model": "lstm", "text": TEXT}).json()
    known = [s["bits"] for s in d["steps"] if s["bits"] is not None and not s["target_unk"]]
    every = [s["bits"] for s in d["steps"] if s["bits"] is not None]
    assert d["unk_targets"] == 1 and len(every) == len(known) + 1
    assert d["mean_bits"] == pytest.approx(sum(known) / len(known), abs=1e-3)
    assert d["mean_bits_all"] == pytest.approx(sum(every) / len(every), abs=1e-3)
    # without unknown words the two means agree and nothing is left out
    d = api_client.post("/api/trace", json={"model": "lstm", "text": "The cat sat"}).json()
    assert d["unk_targets"] == 0 and not any(d["unk"])
    assert d["mean_bits"] == d["mean_bits_all"]


def test_gradients_generate_predict_flag_unknown_words(api_client, lm_registry):
    lm = lm_registry.get("rnn")
    want = expected_unk(lm, TEXT)
    at = want.index(True)
    g = api_client.post("/api/gradients", json={"model": "rnn", "text": TEXT, "position": at - 1})
    g = g.json()
    assert g["unk"] == want and g["target"] == ODD and g["target_unk"] is True
    g = api_client.post("/api/gradients", json={"model": "rnn", "text": TEXT}).json()
    assert g["target"] == "house" and g["target_unk"] is False
    p = api_client.post("/api/predict", json={"model": "rnn", "text": TEXT}).json()
    assert p["unk"] == want
    q = api_client.post("/api/generate", json={"model": "rnn", "prompt": TEXT, "length": 2})
    assert q.json()["prompt_unk"] == want


@pytest.fixture(scope="module")
def game_client(game_runs):
    reg = ModelRegistry()
    reg.add_run("gru", game_runs / "gru", heldout="the cat ran to one mat .\n")
    reg.add_run("char", game_runs / "char", heldout="the cat sat on a mat.\n")
    return TestClient(create_app(reg)), reg


def test_char_model_flags_the_unknown_character(game_client):
    client, reg = game_client
    lm = reg.get("char")
    text = "the cat Zat"  # the training text is lower case: "Z" is unknown
    assert "Z" not in lm.tokenizer.stoi
    d = client.post("/api/trace", json={"model": "char", "text": text}).json()
    assert d["unk"] == expected_unk(lm, text) == [c == "Z" for c in text]


def test_game_marks_unknown_typed_guesses_and_prompt_words(game_client):
    client, reg = game_client
    s = client.post("/api/game/new", json={"model": "gru", "mode": "typed", "seed": 1}).json()
    r = client.post("/api/game/guess", json={"session": s["session"], "guess": ODD}).json()
    assert r["result"]["you"] == {**r["result"]["you"], "unk": True, "correct": False}
    r = client.post("/api/game/guess", json={"session": s["session"], "guess": "cat"}).json()
    assert r["result"]["you"]["unk"] is False
    # the memory challenge: each model says which words of the prompt it cannot read
    r = client.post(
        "/api/game/memory/answer", json={"kind": "agreement", "level": 2, "seed": 0, "choice": "is"}
    ).json()
    lm = reg.get("gru")
    words = lm.tokenizer.split(r["prompt"])
    want = [w for w, u in zip(words, expected_unk(lm, r["prompt"])[1:]) if u]
    assert want  # the modifiers ("near the door", ...) are outside this tiny vocabulary
    assert next(m for m in r["models"] if m["name"] == "gru")["unknown"] == want


def test_neuron_flags_held_out_words_read_as_unknown(api_client, lm_registry):
    from rnnlab.serve.analysis import START, heldout_states

    lm = lm_registry.get("rnn")
    tok = lm.tokenizer
    hs = heldout_states(lm)
    # held-out text holds words the 3000-sentence vocabulary lacks: flagged, and only those
    assert len(hs["unk"]) == len(hs["tokens"]) and 0 < sum(hs["unk"]) < len(hs["unk"])
    for w, u in zip(hs["tokens"], hs["unk"]):
        assert u == (w != START and tok.encode(w) == [tok.unk_id]), w
    d = api_client.post("/api/neuron", json={"model": "rnn", "unit": 3, "k": 50}).json()
    for r in d["top"] + d["bottom"]:
        assert r["unk"] == (r["token"] != START and tok.encode(r["token"]) == [tok.unk_id])
