"""The gradient view: the verdict against hand-computed numbers, the normalisation (target
step = 1.0), the LSTM's cell-state series, the compare route on tiny real models."""

import pytest
import torch

from rnnlab.serve import gradients as G

TEXT = "The cat sat on the mat"


def _panel(name, cell, rel, cell_rel=None, offset=1):
    words = ["a", "b", "c", "d"]
    return {
        "model": name, "label": name.upper(), "cell": cell, "offset": offset,
        "tokens": ["⟨s⟩"] * offset + words, "target_index": offset + 3,
        "relative": rel, "cell_relative": cell_rel,
    }  # fmt: skip


def test_verdict_numbers_and_words_by_hand():
    a = _panel("rnn", "rnn_tanh", [0.5, 0.004, 0.05, 1.0, 0.0])
    b = _panel("lstm", "lstm", [0.5, 0.12, 0.3, 1.0, 0.0], [0.9, 0.8, 0.9, 1.0, 0.0])
    v = G.gradient_verdict(a, b, at=0)  # word "a" = step 1, 3 words before the target "d"
    assert (v["at"], v["back"], v["word"]) == (0, 3, "a")
    assert [(r["h"], r["c"]) for r in v["models"]] == [(0.004, None), (0.12, 0.8)]
    assert v["text"] == (
        "3 words before the target (at “a”), ‖∂L/∂h‖ is 0.4% of its size at the target for "
        "the RNN, 12% for the LSTM. The LSTM keeps 30× more of it: the textbook contrast (its "
        "gates keep the gradient alive). Through the LSTM's cell state, ‖∂L/∂c‖ is 80% of its "
        "size at the target."
    )
    # the pair the user found: the LSTM's fades faster -> said plainly
    w = G.gradient_verdict(_panel("rnn", "rnn_tanh", [1, 0.02, 1, 1, 0]), b, at=1)
    assert "2 words before" in w["text"] and "is 100% of" in w["text"] and ", 30% for" in w["text"]
    assert "1 word before" in G.gradient_verdict(a, b, at=2)["text"]
    w = G.gradient_verdict(b, _panel("rnn", "rnn_tanh", [1, 0.5, 1, 1, 0]), at=0)
    assert "On this sentence the LSTM's gradient fades faster than the RNN's" in w["text"]
    assert "not the textbook contrast" in w["text"]
    with pytest.raises(Exception, match="before the target"):
        G.gradient_verdict(a, b, at=3)


def test_share_formats():
    assert [G.share(x) for x in (2.5, 0.43, 0.04, 0.0029, 2.9e-6)] == [
        "250%", "43%", "4%", "0.29%", "2.9e-06",
    ]  # fmt: skip


def test_normalisation_and_cell_state_on_real_models(lm_registry):
    for name in ("rnn", "lstm", "bi"):
        lm = lm_registry.get(name)
        d = G.gradients(lm, TEXT)
        ref = d["ref_step"]
        assert d["relative"][ref] == 1.0
        s = torch.tensor(d["norms"][0]).pow(2).sum(0).sqrt()  # directions combined
        assert d["series"] == pytest.approx(s.tolist(), rel=1e-3)
        assert d["relative"] == pytest.approx((s / s[ref]).tolist(), rel=1e-3)
        if lm.causal:
            assert ref == d["position"]
        else:  # a fill-in model's own step has no gradient: its neighbours feed the loss
            assert abs(ref - d["position"]) == 1 and d["series"][d["position"]] == 0
    lstm = lm_registry.get("lstm")
    d = G.gradients(lstm, TEXT)
    ids = torch.tensor([[lstm.tokenizer.eos_id, *lstm.tokenizer.encode(TEXT)]])
    tgt = ids[:, -1]
    tr = lstm.model.rnn.trace(
        lstm.model.embed(ids).detach(),
        grad_of=lambda o: torch.nn.functional.cross_entropy(
            lstm.model.logits_from_output(o)[:, -2], tgt
        ),
    )
    c = tr.grad_c[0][0][0].norm(dim=-1)
    assert d["cell_series"] == pytest.approx(c.tolist(), rel=1e-3)
    assert d["cell_relative"][d["ref_step"]] == 1.0
    assert G.gradients(lm_registry.get("rnn"), TEXT)["cell_relative"] is None


def test_compare_route_matches_its_panels(api_client):
    body = {"models": ["rnn", "lstm"], "text": TEXT}
    d = api_client.post("/api/gradients/compare", json=body).json()
    v = d["verdict"]
    assert v["at"] == 0 and v["word"] == "The" and v["back"] == 5
    for row, p in zip(v["models"], d["panels"]):
        assert row["h"] == p["relative"][row["step"]] and row["step"] == 1
        assert G.share(row["h"]) in v["text"]
    assert d["panels"][1]["cell_relative"] is not None
    one = api_client.post("/api/gradients", json={"model": "lstm", "text": TEXT}).json()
    assert one["relative"] == d["panels"][1]["relative"]
    # the word whose loss is differentiated, in words of the text (both kinds of model)
    d = api_client.post(
        "/api/gradients/compare", json={**body, "models": ["rnn", "bi"], "word": 2}
    ).json()
    assert [p["target"] for p in d["panels"]] == ["sat", "sat"]
    d = api_client.post("/api/gradients/compare", json={**body, "word": 0}).json()
    assert [p["target"] for p in d["panels"]] == ["The", "The"]
    bad = api_client.post("/api/gradients/compare", json={**body, "word": 6})
    assert bad.status_code == 422 and "position must be 0..5" in bad.json()["detail"]
    assert api_client.post("/api/gradients/compare", json={**body, "at": 9}).status_code == 422
    assert (
        api_client.post("/api/gradients/compare", json={**body, "models": ["rnn", "x"]}).status_code
        == 404
    )


def test_recall_line_compares_at_the_key(api_client):
    line = "remember apple red blue cat dog recall apple"
    v = api_client.post(
        "/api/gradients/compare", json={"models": ["rnn", "lstm"], "text": line}
    ).json()["verdict"]
    assert v["at"] == 1 and v["back"] == 6


def test_model_list_has_groups(api_client):
    assert {m["group"] for m in api_client.get("/api/models").json()["models"]} == {"words"}


def test_the_pages_recall_preset_is_a_generated_recall_line():
    import re
    from pathlib import Path

    from rnnlab.data.synthetic import recall_lines

    js = (Path(G.__file__).parent / "static" / "explorer-grads.js").read_text()
    (line,) = re.findall(r'export const RECALL = "([^"]+)"', js)
    assert line == recall_lines(1, 7, min_gap=30, max_gap=30)[0]
