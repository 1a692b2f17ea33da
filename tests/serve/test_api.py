"""The explorer's JSON API on tiny real models: every number checked against a reference
(torch.nn layers, the gate equations, autograd through a hand-unrolled cell)."""

from __future__ import annotations

import math
import socket

import pytest
import torch
import torch.nn.functional as F

from rnnlab.serve import analysis

TEXT = "The cat sat on the mat"
TOL = 2e-4  # the API rounds to 4 decimals


def _ids(reg, name, text=TEXT):
    tok = reg.get(name).tokenizer
    return [tok.eos_id, *tok.encode(text)]


def _nn_twin(rnn):
    """A torch.nn layer with the same weights (the reference for the hidden states)."""
    kind = {"RNN": torch.nn.RNN, "GRU": torch.nn.GRU, "LSTM": torch.nn.LSTM}[
        [c.__name__ for c in type(rnn).__mro__ if c.__name__ in ("RNN", "GRU", "LSTM")][0]
    ]
    twin = kind(
        rnn.input_size,
        rnn.hidden_size,
        rnn.num_layers,
        batch_first=True,
        bidirectional=rnn.bidirectional,
    )
    twin.load_state_dict(rnn.state_dict())
    return twin


def test_models_lists_every_model(api_client, lm_registry):
    d = api_client.get("/api/models").json()
    by = {m["name"]: m for m in d["models"]}
    assert list(by) == ["rnn", "lstm", "deep", "bi"]
    assert by["deep"]["layers"] == 2 and by["bi"]["directions"] == 2
    assert by["bi"]["causal"] is False and by["rnn"]["causal"] is True
    assert by["lstm"]["params"] == sum(
        p.numel() for p in lm_registry.get("lstm").model.parameters()
    )
    assert d["limits"] == {"chars": 2000, "tokens": 200}


@pytest.mark.parametrize("name", ["lstm", "deep"])
def test_trace_hidden_states_and_predictions_match_the_model(api_client, lm_registry, name):
    d = api_client.post("/api/trace", json={"model": name, "text": TEXT, "k": 4}).json()
    lm = lm_registry.get(name)
    ids = _ids(lm_registry, name)
    assert d["tokens"] == [analysis.START, *lm.tokenizer.split(TEXT)] and d["ids"] == ids
    x = torch.tensor([ids])
    with torch.no_grad():
        emb = lm.model.embed(x)
        ref_out, _ = _nn_twin(lm.model.rnn)(emb)
        probs = F.softmax(lm.model(x)[0][0], -1)
    top = torch.tensor(d["hidden"][-1][0])
    assert torch.allclose(top, ref_out[0], atol=TOL)
    for t, step in enumerate(d["steps"]):
        p, i = probs[t].topk(4)
        assert [w for w, _ in step["top"]] == [lm.tokenizer.vocab[j] for j in i.tolist()]
        assert [q for _, q in step["top"]] == pytest.approx(p.tolist(), abs=1e-5)
        if t + 1 < len(ids):
            assert step["target"] == d["tokens"][t + 1]
            p_model = float(probs[t, ids[t + 1]])
            # p is rounded to 6 decimals in the reply, bits comes from the unrounded p
            assert step["p"] == pytest.approx(p_model, rel=1e-3, abs=1e-6)
            assert step["bits"] == pytest.approx(-math.log2(p_model), abs=1e-3)
        else:
            assert step["target"] is None and step["p"] is None
    # the mean is over targets the model knows (an unknown one is the surprise at <unk>)
    bits = [s["bits"] for s in d["steps"] if s["bits"] is not None and not s["target_unk"]]
    assert d["mean_bits"] == pytest.approx(sum(bits) / len(bits), abs=1e-3)


def test_gates_follow_the_gru_and_lstm_equations(api_client):
    g = api_client.post("/api/trace", json={"model": "deep", "text": TEXT}).json()
    for layer in range(2):
        h = torch.tensor(g["hidden"][layer][0])
        r, z, n = (torch.tensor(g["gates"][layer][0][k]) for k in "rzn")
        prev = torch.cat([torch.zeros(1, h.shape[1]), h[:-1]])
        assert torch.allclose(h, (1 - z) * n + z * prev, atol=1e-3)
        assert ((r >= 0) & (r <= 1)).all()
    lstm = api_client.post("/api/trace", json={"model": "lstm", "text": TEXT}).json()
    gt = {k: torch.tensor(v) for k, v in lstm["gates"][0][0].items()}
    h = torch.tensor(lstm["hidden"][0][0])
    c_prev = torch.cat([torch.zeros(1, h.shape[1]), gt["cell"][:-1]])
    assert torch.allclose(gt["cell"], gt["f"] * c_prev + gt["i"] * gt["g"], atol=1e-3)
    assert torch.allclose(h, gt["o"] * torch.tanh(gt["cell"]), atol=1e-3)
    rnn = api_client.post("/api/trace", json={"model": "rnn", "text": TEXT}).json()
    assert rnn["gates"] == [[{}]]


def test_pca_projects_the_trajectory(api_client):
    d = api_client.post("/api/trace", json={"model": "lstm", "text": TEXT}).json()
    p = d["pca"][0][0]
    assert len(p["points"]) == len(d["tokens"]) and p["basis"] == "held-out text"
    assert 0 < p["explained"][1] <= p["explained"][0] <= 1


def test_fill_in_model_never_sees_the_word_it_guesses(api_client, lm_registry):
    a = api_client.post("/api/trace", json={"model": "bi", "text": "The cat sat on the mat"}).json()
    b = api_client.post("/api/trace", json={"model": "bi", "text": "The dog sat on the mat"}).json()
    assert a["tokens"][0] == "The" and a["causal"] is False  # no start token: it reads both ways
    assert a["steps"][1]["top"] == b["steps"][1]["top"]  # position of cat/dog: same guess
    assert a["steps"][1]["target"] == "cat" and b["steps"][1]["target"] == "dog"
    assert a["steps"][0]["top"] != b["steps"][0]["top"]  # its neighbours do see the change
    lm = lm_registry.get("bi")
    ids = torch.tensor([lm.tokenizer.encode("The cat sat on the mat")])
    with torch.no_grad():
        probs = F.softmax(lm.model(ids)[0][0], -1)
    for t, s in enumerate(a["steps"]):
        assert s["p"] == pytest.approx(float(probs[t, ids[0, t]]), rel=1e-3, abs=1e-6)


def _unrolled_grad_norms(lm, ids, position):
    """Reference ‖∂loss/∂h_t‖: a torch.nn.RNNCell unrolled by hand, autograd on each h_t."""
    rnn = lm.model.rnn
    cell = torch.nn.RNNCell(rnn.input_size, rnn.hidden_size)
    cell.load_state_dict(
        {k[:-3]: v for k, v in rnn.state_dict().items()}
    )  # weight_ih_l0 -> weight_ih
    x = lm.model.embed(torch.tensor([ids])).detach()
    h, hs = torch.zeros(1, rnn.hidden_size), []
    for t in range(len(ids)):
        h = cell(x[:, t], h)
        h.retain_grad()
        hs.append(h)
    loss = F.cross_entropy(lm.model.head(hs[position]), torch.tensor([ids[position + 1]]))
    loss.backward()
    return [0.0 if h.grad is None else float(h.grad.norm()) for h in hs], loss.item()


def test_gradients_match_a_hand_unrolled_reference(api_client, lm_registry):
    lm = lm_registry.get("rnn")
    ids = _ids(lm_registry, "rnn")
    d = api_client.post("/api/gradients", json={"model": "rnn", "text": TEXT, "position": 4}).json()
    ref, loss = _unrolled_grad_norms(lm, ids, 4)
    got = d["norms"][0][0]
    assert d["target"] == d["tokens"][5] and d["target_index"] == 5
    assert d["loss"] == pytest.approx(loss, rel=1e-4)
    assert got[:5] == pytest.approx(ref[:5], rel=1e-3)
    assert got[5:] == [0.0, 0.0]  # later steps cannot change an earlier prediction
    default = api_client.post("/api/gradients", json={"model": "rnn", "text": TEXT}).json()
    assert default["position"] == len(ids) - 2


def test_fill_in_gradients_come_from_both_sides(api_client):
    d = api_client.post("/api/gradients", json={"model": "bi", "text": TEXT, "position": 2}).json()
    fwd, bwd = d["norms"][0]
    assert d["target"] == "sat"
    # forward states before the word and backward states after it carry the loss; the rest
    # (including both states at the word itself) cannot
    assert all(v > 0 for v in fwd[:2]) and all(v == 0 for v in fwd[2:])
    assert all(v == 0 for v in bwd[:3]) and all(v > 0 for v in bwd[3:])


def test_generate_is_seeded_and_reports_its_distribution(api_client):
    body = {"model": "lstm", "prompt": "I love eating", "length": 8, "temperature": 0.7, "seed": 3}
    a = api_client.post("/api/generate", json=body).json()
    assert a == api_client.post("/api/generate", json=body).json()
    assert 1 <= len(a["steps"]) <= 8
    for s in a["steps"]:
        top = dict(s["top"])
        if s["token"] in top:
            assert top[s["token"]] == pytest.approx(s["p"], abs=1e-5)
        assert s["p"] <= s["top"][0][1] + 1e-9
    # at temperature 1 the first step's distribution is the model's next-word prediction
    g1 = api_client.post("/api/generate", json={**body, "temperature": 1.0, "length": 1}).json()
    pred = api_client.post("/api/predict", json={"model": "lstm", "text": "I love eating"}).json()
    assert g1["steps"][0]["top"] == pred["top"]
    r = api_client.post("/api/generate", json={"model": "bi", "prompt": "I love"})
    assert r.status_code == 422 and "cannot generate" in r.json()["detail"]


def test_limits_and_errors_are_clear(api_client):
    r = api_client.post("/api/trace", json={"model": "rnn", "text": "a" * 2001})
    assert r.status_code == 422 and "2000" in r.json()["detail"]
    r = api_client.post("/api/trace", json={"model": "rnn", "text": "the " * 200})
    assert (
        r.status_code == 422 and "201 tokens" in r.json()["detail"] and "200" in r.json()["detail"]
    )
    assert (
        api_client.post("/api/trace", json={"model": "rnn", "text": "the " * 199}).status_code
        == 200
    )
    r = api_client.post("/api/trace", json={"model": "rnn", "text": "   "})
    assert r.status_code == 422 and "empty" in r.json()["detail"]
    r = api_client.post("/api/trace", json={"model": "gpt", "text": "hi"})
    assert r.status_code == 404 and "rnn, lstm, deep, bi" in r.json()["detail"]
    assert api_client.get("/api/models/gpt").status_code == 404
    r = api_client.post("/api/generate", json={"model": "rnn", "prompt": "hi", "temperature": 0})
    assert r.status_code == 422 and "temperature" in r.json()["detail"]
    r = api_client.post("/api/gradients", json={"model": "rnn", "text": TEXT, "position": 6})
    assert r.status_code == 422 and "position must be 0..5" in r.json()["detail"]
    r = api_client.post("/api/neuron", json={"model": "rnn", "unit": 24})
    assert r.status_code == 422 and "unit must be 0..23" in r.json()["detail"]
    assert api_client.post("/api/trace", content=b"{not json").status_code == 422


def test_neuron_view_matches_the_trace_of_held_out_text(api_client):
    d = api_client.post("/api/neuron", json={"model": "lstm", "unit": 5, "k": 8}).json()
    top = [r["value"] for r in d["top"]]
    assert top == sorted(top, reverse=True) and len({r["token"] for r in d["top"]}) == len(top)
    values = [v for _, v, _ in d["sample"]]
    assert max(values) <= top[0] + 1e-9 and min(values) >= d["bottom"][0]["value"] - 1e-9
    first = [w for w, _, s in d["sample"] if s == 0]
    text = " ".join(first[1:])  # drop the start token
    tr = api_client.post("/api/trace", json={"model": "lstm", "text": text}).json()
    assert tr["tokens"] == first
    want = [row[5] for row in tr["hidden"][0][0]]
    assert [v for _, v, s in d["sample"] if s == 0] == pytest.approx(want, abs=TOL)


def test_model_card(api_client, lm_registry):
    c = api_client.get("/api/models/deep").json()
    cfg = lm_registry.get("deep").config
    assert c["val_ppl"] == pytest.approx(math.exp(cfg["metrics"]["val_loss"]), rel=1e-3)
    assert c["layers"] == 2 and c["data"] == "a slice of the built-in corpus"
    assert c["curve"]["val"] and c["curve"]["val"][-1][0] == 25
    assert c["params"] == sum(p.numel() for p in lm_registry.get("deep").model.parameters())


def test_pages_are_served_and_self_contained(api_client):
    import importlib.util

    from rnnlab.serve.app import STATIC

    html = api_client.get("/").text
    assert "/static/explorer.js" in html and "/static/nav.js" in html
    for f in STATIC.glob("*"):
        if f.name.startswith(("index", "explorer", "nav", "colormaps")):
            assert api_client.get(f"/static/{f.name}").status_code == 200
            body = f.read_text()
            # no external requests: no absolute URLs except the SVG namespace
            assert "https://" not in body and "http://" not in body.replace(
                "http://www.w3.org/2000/svg", ""
            )
    pages = [p["path"] for p in api_client.get("/api/pages").json()["pages"]]
    assert pages[0] == "/"
    has_game = importlib.util.find_spec("rnnlab.serve.game") is not None
    assert ("/game" in pages) == has_game


def test_free_port_when_the_port_is_taken():
    from rnnlab.serve.server import free_port

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        taken = s.getsockname()[1]
        port = free_port(taken)
        assert port != taken
        with socket.socket() as s2:
            s2.bind(("127.0.0.1", port))


def _cli(monkeypatch, capsys, *args):
    from rnnlab import cli

    monkeypatch.setattr("sys.argv", ["rnnlab", *args])
    with pytest.raises(SystemExit) as e:
        cli.main()
    return e.value.code, capsys.readouterr().err


def test_cli_errors_are_one_line(monkeypatch, capsys, tmp_path, lm_runs):
    monkeypatch.setenv("RNNLAB_HOME", str(tmp_path / "home"))
    # an installation without shipped word models and an empty cache
    monkeypatch.setattr("rnnlab.tasks.demo.sources.available", lambda: [])
    code, err = _cli(monkeypatch, capsys, "demo", "--no-train")
    assert code == 2 and "no shipped demo models" in err and "Traceback" not in err
    code, err = _cli(monkeypatch, capsys, "serve", str(tmp_path / "nope"))
    assert code == 3 and "does not exist" in err
    code, err = _cli(monkeypatch, capsys, "demo", "--no-train", "--retrain")
    assert code == 2 and "contradict" in err
    code, err = _cli(monkeypatch, capsys, "demo", "--only", "gru")
    assert code == 2 and "--build" in err
    code, err = _cli(monkeypatch, capsys, "demo", "--build", "--only", "gpt", "--no-serve")
    assert code == 2 and "no shipped model named 'gpt'" in err


def test_live_demo_cache_lives_under_rnnlab_home(monkeypatch, tmp_path):
    from rnnlab.serve.demo import demo_registry
    from rnnlab.tasks.demo import live
    from rnnlab.tasks.demo.sources import _live

    monkeypatch.setenv("RNNLAB_HOME", str(tmp_path))
    root = live.demo_root()
    assert root.parent == tmp_path / "demo" and not live.is_trained(root)
    names = [n for n, *_ in live.MODELS]
    assert names == ["rnn", "gru", "lstm", "deep", "bigru"]
    reg = demo_registry(_live(root))
    assert reg.names() == names
    with pytest.raises(KeyError):
        reg.get("gpt")


def test_serves_a_char_level_run_from_rnnlab_lm_train(tmp_path):
    """`rnnlab serve runs/NAME`: a char model, held-out text = the tail of its data file."""
    from fastapi.testclient import TestClient

    from rnnlab.serve.app import create_app
    from rnnlab.serve.registry import ModelRegistry
    from rnnlab.tasks.lm.train import train_lm

    data = tmp_path / "abc.txt"
    data.write_text("the cat sat on the mat.\nthe dog sat on the log.\n" * 40)
    train_lm(
        data,
        tmp_path / "chars",
        level="char",
        cell="gru",
        layers=1,
        hidden=16,
        embed=8,
        seq_len=16,
        batch=4,
        steps=5,
        progress=False,
    )
    reg = ModelRegistry()
    reg.add_run("chars", tmp_path / "chars")
    lm = reg.get("chars")
    assert lm.label == "GRU" and lm.heldout_text().startswith("the ")
    with TestClient(create_app(reg)) as c:
        d = c.post("/api/trace", json={"model": "chars", "text": "the cat"}).json()
        assert d["tokens"] == list("the cat") and d["steps"][0]["target"] == "h"
        g = c.post("/api/gradients", json={"model": "chars", "text": "the cat"}).json()
        assert g["target"] == "t" and len(g["norms"][0][0]) == 7
        n = c.post("/api/neuron", json={"model": "chars", "unit": 0}).json()
        assert n["top"] and n["n_tokens"] > 0
