"""The recall pair's helpers on a small real model: the corpus is deterministic, the batched
accuracy equals a line-by-line reference, and the key gradient is the trace's ratio."""

import pytest
import torch
import torch.nn.functional as F

from rnnlab.data.synthetic import recall_key, recall_lines
from rnnlab.tasks.demo.recall import RECALL_MODELS, key_gradient, recall_accuracy, recall_corpus


@pytest.fixture(scope="module")
def tiny_lstm(tmp_path_factory):
    from rnnlab.tasks.lm.model import load_lm
    from rnnlab.tasks.lm.train import train_lm

    train, val = recall_corpus(0)
    opts = {**RECALL_MODELS[1][3], "steps": 60, "hidden": 16, "embed": 8}
    out = tmp_path_factory.mktemp("recall") / "lstm"
    train_lm(train, out, val=val, progress=False, **opts)
    return load_lm(out)


def test_corpus_is_deterministic_and_disjoint_streams():
    a, b = recall_corpus(0)
    assert (a, b) == recall_corpus(0) and a != recall_corpus(1)[0]
    assert not set(a.splitlines()) & set(b.splitlines())
    assert [m[2] for m in RECALL_MODELS] == ["rnn", "lstm"]
    assert RECALL_MODELS[0][3] == {**RECALL_MODELS[1][3], "cell": "rnn"}  # only the cell differs


def test_accuracy_equals_a_line_by_line_reference(tiny_lstm):
    tok = tiny_lstm.tokenizer
    lines = recall_lines(40, 9)
    hits = 0
    with torch.no_grad():
        for s in lines:
            logits, _ = tiny_lstm(torch.tensor([[tok.eos_id, *tok.encode(s)[:-1]]]))
            hits += tok.vocab[int(logits[0, -1].argmax())] == recall_key(s)
    assert recall_accuracy(tiny_lstm, lines) == pytest.approx(hits / len(lines))


def test_key_gradient_is_the_ratio_of_autograd_norms(tiny_lstm):
    tok = tiny_lstm.tokenizer
    line = recall_lines(1, 3)[0]
    ids = [tok.eos_id, *tok.encode(line)]
    emb = tiny_lstm.embed(torch.tensor([ids[:-1]])).detach()
    # reference: torch.nn.LSTMCell with the same weights unrolled by hand, autograd on each h_t
    H = tiny_lstm.rnn.hidden_size
    ref = torch.nn.LSTMCell(emb.shape[-1], H)
    ref.load_state_dict({k[:-3]: v for k, v in tiny_lstm.rnn.state_dict().items()})
    hs, h, c = [], torch.zeros(1, H), torch.zeros(1, H)
    for t in range(emb.shape[1]):
        h, c = ref(emb[:, t], (h, c))
        h.retain_grad()
        hs.append(h)
    loss = F.cross_entropy(tiny_lstm.head(hs[-1]), torch.tensor([ids[-1]]))
    loss.backward()
    want = float(hs[2].grad.norm() / hs[-1].grad.norm())
    assert key_gradient(tiny_lstm, line) == pytest.approx(want, rel=1e-4)
