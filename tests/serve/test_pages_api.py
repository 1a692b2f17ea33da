"""The explorer's API additions of issue 20, against a plain forward pass: p(a word of my
choice) and its rank, the distribution at a temperature, generation over several sentences
and from an empty prompt; and an icon declared by every page."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from rnnlab.serve.app import PAGES


def next_probs(lm, text: str, temperature: float = 1.0) -> torch.Tensor:
    ids = [lm.tokenizer.eos_id, *lm.tokenizer.encode(text)]
    with torch.no_grad():
        logits = lm.model(torch.tensor([ids]))[0][0, -1].double()
    return F.softmax(logits / temperature, -1)


def test_p_of_a_word_of_my_choice_and_its_rank(api_client, lm_registry):
    lm = lm_registry.get("lstm")
    p = next_probs(lm, "I love eating")
    order = p.argsort(descending=True).tolist()
    word = lm.tokenizer.vocab[order[7]]  # the 8th guess: not in any top-5 list
    d = api_client.post(
        "/api/predict", json={"model": "lstm", "text": "I love eating", "word": word}
    ).json()
    assert d["choice"] == {
        "word": word,
        "p": pytest.approx(float(p[order[7]]), abs=1e-6),
        "rank": 8,
        "known": True,
    }
    assert word not in [w for w, _ in d["top"]]
    odd = api_client.post(
        "/api/predict", json={"model": "lstm", "text": "I love eating", "word": "zyzzyvas"}
    ).json()["choice"]
    assert odd == {"word": "zyzzyvas", "p": None, "rank": None, "known": False}
    r = api_client.post(
        "/api/predict", json={"model": "lstm", "text": "I love", "word": "two words"}
    )
    assert r.status_code == 422 and "type one word" in r.json()["detail"]


def test_predict_at_a_temperature_and_from_nothing(api_client, lm_registry):
    lm = lm_registry.get("rnn")
    for t in (0.5, 2.0):
        d = api_client.post(
            "/api/predict", json={"model": "rnn", "text": "The cat", "temperature": t, "k": 3}
        ).json()
        want = next_probs(lm, "The cat", t)
        top = want.topk(3)
        assert [w for w, _ in d["top"]] == [lm.tokenizer.vocab[int(i)] for i in top.indices]
        assert [q for _, q in d["top"]] == pytest.approx(top.values.tolist(), abs=1e-5)
    # an empty prompt: the distribution of a sentence's first word, after the start token
    d = api_client.post("/api/predict", json={"model": "rnn", "text": "", "k": 3}).json()
    with torch.no_grad():
        p0 = F.softmax(lm.model(torch.tensor([[lm.tokenizer.eos_id]]))[0][0, -1].double(), -1)
    assert d["tokens"] == ["⟨s⟩"] and d["top"][0][1] == pytest.approx(float(p0.max()), abs=1e-5)


def test_generate_several_sentences_from_an_empty_prompt(api_client, lm_registry):
    eos = lm_registry.get("deep").tokenizer.vocab[lm_registry.get("deep").tokenizer.eos_id]
    body = {"model": "deep", "prompt": "", "length": 100, "temperature": 0.8, "seed": 1}
    one = api_client.post("/api/generate", json=body).json()
    three = api_client.post("/api/generate", json={**body, "sentences": 3}).json()
    ends = [s["token"] for s in three["steps"]].count(eos)
    assert [s["token"] for s in one["steps"]].count(eos) <= 1
    assert ends == 3 or len(three["steps"]) == 100  # three sentences, or the length cap
    # the same seed: the first sentence is the one a 1-sentence request gave
    assert [s["token"] for s in three["steps"][: len(one["steps"])]] == [
        s["token"] for s in one["steps"]
    ]
    assert three["prompt_tokens"] == ["⟨s⟩"] and eos not in three["text"]


def test_every_page_declares_an_icon(api_client):
    for path in ["/", *[p for _, p, _ in PAGES]]:
        html = api_client.get(path).text
        assert '<link rel="icon"' in html, path


def test_memory_lab_names_no_server_path_and_says_how_to_train(api_client, tmp_path, monkeypatch):
    monkeypatch.setenv("RNNLAB_MEMORY_SWEEP", str(tmp_path / "deep" / "sweep.json"))
    r = api_client.get("/api/memory/sweep")
    assert r.json()["available"] is False and str(tmp_path) not in r.text
    assert "rnnlab memory sweep" in r.json()["how"]
    page = api_client.get("/static/memory.js").text
    assert "underflow" in page and "Adding problem" in page
