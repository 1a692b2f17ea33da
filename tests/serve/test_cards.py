"""The model card and the "Compare architectures" table: the ranking and its computed summary
on hand-made numbers, then both on the tiny real models of ``conftest`` through the API."""

from __future__ import annotations

import json
import math

import pytest
from fastapi.testclient import TestClient

from rnnlab.serve import cards
from rnnlab.serve import schemas as S
from rnnlab.serve.app import create_app
from rnnlab.serve.registry import ModelRegistry


def _row(name, label, cell, ppl, causal=True, vocab=4700, secs=10.0, params=1000):
    return {
        "name": name,
        "label": label,
        "cell": cell,
        "causal": causal,
        "val_ppl": ppl,
        "training_seconds": secs,
        "params": params,
        "vocab_size": vocab,
    }


def _table(rnn, gru, lstm, deep=None, bi=20.0):
    rows = [
        _row("rnn", "Vanilla RNN", "rnn_tanh", rnn),
        _row("gru", "GRU", "gru", gru),
        _row("lstm", "LSTM", "lstm", lstm),
        _row("bigru", "Bidirectional GRU (fill-in)", "gru", bi, causal=False),
    ]
    if deep is not None:
        rows.insert(3, _row("deep", "Deep GRU (2 layers)", "gru", deep))
    return cards.compare_rows(rows)


def test_gated_models_ahead_ranked_and_said_with_the_numbers():
    d = _table(rnn=70.0, gru=61.2, lstm=62.0, deep=63.5)
    assert [(r["name"], r["rank"]) for r in d["models"]] == [
        ("gru", 1),
        ("lstm", 2),
        ("deep", 3),
        ("rnn", 4),
    ]
    assert d["summary"] == (
        "The GRU has the lowest held-out perplexity, 61.2: 0.8 (1%) lower than the LSTM at "
        "62.0. Every gated model beats the vanilla RNN at 70.0: the closest, "
        "the deep GRU (2 layers) at 63.5, by 6.5."
    )
    # the fill-in model's perplexity is of another task: apart, with a note, never ranked
    assert [r["name"] for r in d["fillin"]] == ["bigru"]
    assert "bigru" not in [r["name"] for r in d["models"]]
    assert "(20.0)" in d["fillin_note"] and "both sides" in d["fillin_note"]


def test_vanilla_not_worse_is_said_plainly():
    d = _table(rnn=60.0, gru=61.2, lstm=62.0)
    assert d["models"][0]["name"] == "rnn"
    assert d["summary"] == (
        "The vanilla RNN has the lowest held-out perplexity, 60.0: 1.2 (2%) lower than the GRU "
        "at 61.2. On this data the vanilla RNN at 60.0 is not worse than any gated model: "
        "the GRU at 61.2 and the LSTM at 62.0."
    )
    # between the gated ones; an equal number is "not worse" too
    mid = _table(rnn=62.0, gru=61.2, lstm=62.0)["summary"]
    assert mid.endswith(
        "On this data the vanilla RNN at 62.0 is not worse than the LSTM at 62.0; "
        "the GRU at 61.2 does better."
    )


def test_ties_missing_numbers_and_other_vocabularies():
    d = cards.compare_rows(
        [
            _row("a", "GRU", "gru", 61.2),
            _row("b", "LSTM", "lstm", 61.2, vocab=9000),
            _row("c", "minGRU", "mingru", None),
        ]
    )
    assert [(r["name"], r["rank"]) for r in d["models"]] == [("a", 1), ("b", 1), ("c", None)]
    assert d["summary"].startswith(
        "The GRU and the LSTM tie for the lowest held-out perplexity, 61.2."
    )
    assert "different vocabularies (4,700 and 9,000 words)" in d["summary"]
    assert d["fillin"] == [] and d["fillin_note"] is None
    one = cards.compare_rows([_row("a", "Vanilla RNN", "rnn_tanh", 80.0)])["summary"]
    assert one == "The vanilla RNN is the only model here with a held-out perplexity, 80.0."
    assert cards.compare_rows([])["summary"] == (
        "There is no next-word model in this group to compare."
    )


def test_metric_rows_are_named_in_words():
    rows = cards.metric_rows({"val_bpc": 1.62, "step": 900}, level="char", causal=True)
    assert [(r["label"], r["value"], r["unit"]) for r in rows] == [
        ("held-out bits per character", 1.62, "bits"),
        ("step of the best checkpoint", 900.0, "count"),
    ]
    rows = cards.metric_rows({"val_loss": 4.11, "val_ppl": 61.2}, level="word", causal=True)
    assert [r["label"] for r in rows] == ["held-out perplexity", "held-out loss (bits per word)"]
    # recorded in nats, shown in bits like every other page
    assert rows[1]["value"] == pytest.approx(4.11 / math.log(2)) and rows[1]["unit"] == "bits"
    fill = cards.metric_rows({"val_ppl": 20.0}, level="word", causal=False)
    assert fill[0]["label"] == "held-out perplexity (of each word from both sides)"


# ---- on the tiny real models -----------------------------------------------------------------


def test_compare_route_ranks_the_real_models(api_client, lm_registry):
    d = api_client.get("/api/compare").json()
    S.Compare.model_validate(d)
    assert d == json.loads(json.dumps(cards.compare(lm_registry)))
    # the ranking, computed again from each run's own config.json
    ppl = {
        n: round(math.exp(lm_registry.get(n).config["metrics"]["val_loss"]), 1)
        for n in ("rnn", "lstm", "deep")
    }
    assert [r["name"] for r in d["models"]] == sorted(ppl, key=ppl.get)
    assert [r["val_ppl"] for r in d["models"]] == pytest.approx(sorted(ppl.values()), abs=0.051)
    assert [r["name"] for r in d["fillin"]] == ["bi"]
    best = d["models"][0]
    head, _, _ = d["summary"].partition(" has the lowest held-out perplexity, ")
    assert head.lower() == f"the {best['label'].lower()}"
    assert d["summary"][len(head) :].startswith(
        f" has the lowest held-out perplexity, {best['val_ppl']:.1f}:"
    )
    gated = [ppl["lstm"], ppl["deep"]]
    if ppl["rnn"] <= min(gated):
        assert "is not worse than any gated model" in d["summary"]
    elif ppl["rnn"] > max(gated):
        assert "Every gated model beats the vanilla RNN at" in d["summary"]
    else:
        assert "is not worse than" in d["summary"] and "does better" in d["summary"]
    assert api_client.get("/api/compare", params={"group": "chars"}).json()["models"] == []


def test_card_without_meta_reads_the_run(api_client, lm_registry, lm_runs):
    c = api_client.get("/api/models/deep").json()
    S.Card.model_validate(c)
    cfg = lm_registry.get("deep").config
    log = [json.loads(line) for line in (lm_runs / "deep" / "log.jsonl").read_text().splitlines()]
    assert c["training_seconds"] == pytest.approx(max(r["elapsed"] for r in log), abs=0.05)
    assert c["size_bytes"] == (lm_runs / "deep" / "model.safetensors").stat().st_size
    assert c["command"] is None and c["group"] == "words"
    first = c["metric_rows"][0]
    assert (first["label"], first["value"]) == ("held-out perplexity", cfg["metrics"]["val_ppl"])
    assert c["params"] == sum(p.numel() for p in lm_registry.get("deep").model.parameters())
    bi = api_client.get("/api/models/bi").json()["metric_rows"][0]
    assert bi["label"] == "held-out perplexity (of each word from both sides)"


def test_card_shows_the_registry_meta(lm_runs, game_runs):
    meta = {
        "data": "English side of Tatoeba eng-fra-74k",
        "training_seconds": 812.4,
        "metrics": {"val_ppl": 61.2, "val_loss": 4.11},
        "size_bytes": 2_345_678,
        "command": "rnnlab demo --build",
        "group": "words",
    }
    reg = ModelRegistry()
    reg.add_run("gru", lm_runs / "lstm", label="LSTM", meta=meta)
    reg.add_run("char", game_runs / "char")
    with TestClient(create_app(reg)) as client:
        c = client.get("/api/models/gru").json()
        ch = client.get("/api/models/char").json()
    assert c["data"] == meta["data"] and c["command"] == "rnnlab demo --build"
    assert c["training_seconds"] == 812.4 and c["size_bytes"] == 2_345_678
    assert c["val_ppl"] == 61.2
    # the meta's metrics alone: none of the run's own (other) numbers mixed in
    assert [(r["label"], r["value"]) for r in c["metric_rows"]] == [
        ("held-out perplexity", 61.2),
        ("held-out loss (bits per word)", pytest.approx(4.11 / math.log(2))),
    ]
    # a character model without meta: its own group, per-character labels
    assert ch["group"] == "chars" and ch["command"] is None
    assert ch["metric_rows"][0]["label"] == "held-out perplexity (per character)"
