"""rnnlab.inspect on hand-made models whose answers are known: a unit that copies a detector,
connectivity against plain-PyTorch autograd, an intervention against the equations by hand,
select & match against the runs of the copied detector."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnlab import inspect as ri
from rnnlab.data.tokenize import CharTokenizer
from rnnlab.errors import InputError
from rnnlab.tasks.inspect.detectors import char_detectors, word_detectors
from rnnlab.tasks.lm.model import LanguageModel

TEXT = (
    "FIRST CITIZEN:\nBefore we proceed (any further), hear me speak.\n\n"
    'ALL:\nSpeak, "speak"! You are all resolved rather to die than to famish?\n'
    "MENENIUS:\nWhat work's, my countrymen, in hand? Where go you (with bats)?\n"
)


def _model(cell: str, hidden: int = 4, layers: int = 1, embed: int = 3, seed: int = 0):
    torch.manual_seed(seed)
    tok = CharTokenizer.fit(TEXT)
    m = LanguageModel(tok, cell=cell, embed=embed, hidden=hidden, layers=layers, tie=False)
    return m.eval(), tok


def _upper_copier():
    """A vanilla RNN whose unit 0 is tanh(6 * [char is upper case]) (no recurrence into it)."""
    m, tok = _model("rnn", hidden=3, embed=2)
    with torch.no_grad():
        up = torch.tensor([float(c.isupper()) for c in tok.vocab])
        m.emb.weight[:, 0] = up
        m.rnn.weight_ih_l0[0] = torch.tensor([6.0, 0.0])
        m.rnn.weight_hh_l0[0] = 0.0
        m.rnn.bias_ih_l0[0] = m.rnn.bias_hh_l0[0] = 0.0
    return m, tok


def test_detectors_by_hand():
    d = char_detectors(list("AB:\nx(y)\n"))
    assert d["speaker line"] == [1, 1, 1, 0, 0, 0, 0, 0, 0]
    assert d["position in line"] == [0, 1, 2, 3, 0, 1, 2, 3, 4]
    assert d["start of line"] == [1, 0, 0, 0, 1, 0, 0, 0, 0]
    assert d["inside brackets"] == [0, 0, 0, 0, 0, 1, 1, 0, 0]
    w = word_detectors(["⟨s⟩", "the", "dog", "that", "ran", ",", "sat", "."])
    assert w["after a determiner"] == [0, 0, 1, 0, 0, 0, 0, 0]
    assert w["inside a clause"] == [0, 0, 0, 0, 1, 0, 0, 0]
    assert w["position in sentence"] == [0, 1, 2, 3, 4, 5, 6, 7]


def test_find_cells_matches_numpy_and_finds_the_copier():
    m, tok = _upper_copier()
    table = ri.find_cells(m, TEXT)
    best = table.best("upper case")
    assert (best.state, best.layer, best.unit) == ("h", 0, 0) and best.r > 0.99
    # every r against numpy's corrcoef on the model's own forward states
    with torch.no_grad():
        h = m.rnn(m.embed(torch.tensor([tok.encode(TEXT)])))[0][0].double().numpy()
    dets = char_detectors(list(TEXT))
    for row in table.rows[:60]:
        ref = np.corrcoef(h[:, row.unit], dets[row.detector])[0, 1]
        assert row.r == pytest.approx(ref, abs=1e-4)
    assert "inside quotes" not in table.constant and table.to_dict()["top"]["vowel"]


def test_lstm_cell_state_and_gate_saturation_match_the_trace():
    m, tok = _model("lstm", hidden=5)
    table = ri.find_cells(m, TEXT)
    tr = m.rnn.trace(m.embed(torch.tensor([tok.encode(TEXT)])))
    c = tr.gates[0][0]["cell"][0].double().numpy()
    row = table.top("position in line", 50)
    crow = next(r for r in row if r.state == "c")
    ref = np.corrcoef(c[:, crow.unit], char_detectors(list(TEXT))["position in line"])[0, 1]
    assert crow.r == pytest.approx(ref, abs=1e-4)
    sat = {g.gate: g for g in table.saturation}
    assert set(sat) == {"i", "f", "o"}
    f = tr.gates[0][0]["f"][0]
    assert sat["f"].left == pytest.approx(float((f < 0.1).double().mean()), abs=1e-4)
    assert sat["f"].unit_right == pytest.approx((f > 0.9).double().mean(0).tolist(), abs=1e-4)


@pytest.mark.parametrize("cell,layers", [("lstm", 1), ("gru", 2)])
def test_connectivity_equals_plain_pytorch_autograd(cell, layers):
    m, tok = _model(cell, hidden=6, layers=layers, seed=1)
    ids = tok.encode(TEXT[:40])
    t = 30
    ref_rnn = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(3, 6, layers, batch_first=True)
    ref_rnn.load_state_dict(m.rnn.state_dict())
    x = m.emb(torch.tensor([ids[:t]])).detach().requires_grad_(True)
    lp = torch.log_softmax(m.head(ref_rnn(x)[0])[0, -1], -1)[ids[t]]
    (g,) = torch.autograd.grad(lp, x)
    got = ri.connectivity(m, TEXT[:40], t)
    assert got.logp == pytest.approx(float(lp.detach()), abs=1e-5)
    assert got.grad == pytest.approx(g[0].norm(dim=-1).tolist(), rel=1e-4, abs=1e-7)
    assert len(got.grad) == t
    with pytest.raises(InputError, match="t must be"):
        ri.connectivity(m, TEXT[:40], 40)


def _rnn_by_hand(m, ids, layer, unit, from_step, value):
    """Two tanh layers stepped in numpy, unit clamped after each step >= from_step."""
    P = {k: v.detach().double().numpy() for k, v in m.state_dict().items()}
    L, H = m.rnn.num_layers, m.rnn.hidden_size
    h = [np.zeros(H) for _ in range(L)]
    for t, i in enumerate(ids):
        x = P["emb.weight"][i]
        for k in range(L):
            a = P[f"rnn.weight_ih_l{k}"] @ x + P[f"rnn.bias_ih_l{k}"]
            a += P[f"rnn.weight_hh_l{k}"] @ h[k] + P[f"rnn.bias_hh_l{k}"]
            h[k] = np.tanh(a)
            if k == layer and value is not None and t >= from_step:
                h[k][unit] = value
            x = h[k]
    z = P["head.weight"] @ x + P["head.bias"]
    return np.exp(z - z.max()) / np.exp(z - z.max()).sum()


def test_intervention_equals_a_hand_computation():
    m, tok = _model("rnn", hidden=4, layers=2, seed=2)
    text = "Speak, speak! You are"
    ids = tok.encode(text)
    out = ri.intervene(m, text, layer=0, unit=2, from_step=5, value=0.7, length=5)
    assert out.clamped.probs == pytest.approx(_rnn_by_hand(m, ids, 0, 2, 5, 0.7).tolist(), abs=1e-6)
    assert out.base.probs == pytest.approx(_rnn_by_hand(m, ids, 0, 2, 5, None).tolist(), abs=1e-6)
    assert out.clamped.unit[5:] == [0.7] * (len(out.clamped.unit) - 5)
    with torch.no_grad():  # the unclamped run is the model's own forward
        ref = torch.softmax(m(torch.tensor([ids]))[0][0, -1].double(), -1)
    assert out.base.probs == pytest.approx(ref.tolist(), abs=1e-6)
    assert len(out.base.continuation) == 5


def test_lstm_cell_clamp_by_hand():
    m, tok = _model("lstm", hidden=3, seed=3)
    text, unit, v = "hear me", 1, 2.0
    ids = tok.encode(text)
    P = {k: p.detach().double().numpy() for k, p in m.state_dict().items()}
    h, c = np.zeros(3), np.zeros(3)
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    for t, i in enumerate(ids):
        a = P["rnn.weight_ih_l0"] @ P["emb.weight"][i] + P["rnn.bias_ih_l0"]
        a += P["rnn.weight_hh_l0"] @ h + P["rnn.bias_hh_l0"]
        ig, fg, gg, og = sig(a[:3]), sig(a[3:6]), np.tanh(a[6:9]), sig(a[9:])
        c = fg * c + ig * gg
        if t >= 2:
            c[unit] = v
        h = og * np.tanh(c)
    z = P["head.weight"] @ h + P["head.bias"]
    ref = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    out = ri.intervene(m, text, 0, unit, from_step=2, value=v, state="c", length=1)
    assert out.clamped.probs == pytest.approx(ref.tolist(), abs=1e-6)
    with pytest.raises(InputError, match="state must be"):
        ri.intervene(_model("gru")[0], text, 0, 0, state="c")


def test_select_and_match_find_the_upper_case_runs():
    m, tok = _upper_copier()
    index = ri.MatchIndex.build(m, TEXT)
    with torch.no_grad():
        h = m.rnn(m.embed(torch.tensor([tok.encode("ALL")])))[0][0].numpy()
    units = ri.units_on(h, 0, 2, 0.5)
    assert 0 in units
    found = index.search(("h", 0, 0), [0], 0.5, length=3, k=50, detector="upper case")
    upper = np.array([c.isupper() for c in TEXT])
    edges = np.diff(np.concatenate([[0], upper.astype(int), [0]]))
    runs = set(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1))
    assert {(f.start, f.end) for f in found} == {(int(a), int(b)) for a, b in runs}
    assert found[0].end - found[0].start + 1 == 3  # ranked by closeness to the selection's length
    f = found[0]
    assert f.track[f.offset] == 1.0 and "".join(f.tokens[f.offset : f.offset + 3]).isupper()
