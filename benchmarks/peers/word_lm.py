"""PyTorch's ``word_language_model`` example with its defaults (only torch): the word peer.

    python benchmarks/peers/word_lm.py --train ptb.valid.txt --val val.txt --test test.txt \
        --time-budget 10m --threads 1 --out curve.jsonl

As the example: ``line.split() + ['<eos>']`` per line, a 2x200 LSTM (embedding 200, dropout
0.2, untied, uniform(-0.1, 0.1) init), 20 columns, BPTT 35, plain SGD at lr 20 divided by 4
whenever the validation loss does not improve, gradient clip 0.25. Differences, each needed to
compare with rnnlab on the same text: the vocabulary is the training file's (the example also
adds the validation and test words), an unseen word becomes ``<unk>`` (as in rnnlab's
whitespace tokenizer); validation runs at regular intervals of training time instead of per epoch (the
clock and the budget pause while it validates; rnnlab's do not, so the comparison errs in the
peer's favour) and predicts every token but the first. Each validation writes one JSON line:
training seconds so far, validation loss (nats per
token) and bits/char as in rnnlab.tasks.lm.evaluate.bits_per_char: the total nats of the
predicted tokens / ln 2 / the characters of the text, each newline counted.
"""

import argparse
import json
import math
import time

import torch
import torch.nn.functional as F
from torch import nn

ap = argparse.ArgumentParser()
ap.add_argument("--train", required=True)
ap.add_argument("--val", required=True)
ap.add_argument("--test", default=None)
ap.add_argument("--time-budget", default="5m", help="e.g. 90s, 10m")
ap.add_argument("--eval-every", type=float, default=None, help="seconds (default budget/10)")
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--emsize", type=int, default=200)
ap.add_argument("--nhid", type=int, default=200)
ap.add_argument("--nlayers", type=int, default=2)
ap.add_argument("--lr", type=float, default=20.0)
ap.add_argument("--clip", type=float, default=0.25)
ap.add_argument("--bptt", type=int, default=35)
ap.add_argument("--batch-size", type=int, default=20)
ap.add_argument("--dropout", type=float, default=0.2)
ap.add_argument("--seed", type=int, default=1111)
ap.add_argument("--out", default="word_lm.jsonl")
a = ap.parse_args()
budget = float(a.time_budget[:-1]) * {"s": 1, "m": 60, "h": 3600}[a.time_budget[-1]] \
    if a.time_budget[-1] in "smh" else float(a.time_budget)  # fmt: skip
every = a.eval_every or max(10.0, budget / 10)
torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)


def words(path):
    text = open(path, encoding="utf-8", newline="").read()  # newlines as they are
    lines = text.split("\n")  # <eos> for every newline, the words of each line as written
    toks = [w for k, line in enumerate(lines)
            for w in line.split() + (["<eos>"] if k < len(lines) - 1 else [])]  # fmt: skip
    return toks, len(text)


files = {k: words(p) for k, p in (("train", a.train), ("val", a.val), ("test", a.test)) if p}
vocab = ["<unk>", "<eos>"] + sorted(set(files["train"][0]) - {"<unk>", "<eos>"})
stoi = {w: i for i, w in enumerate(vocab)}
ids = {k: torch.tensor([stoi.get(w, 0) for w in t]) for k, (t, _) in files.items()}
oov = {k: float((v == 0).float().mean()) for k, v in ids.items()}


class RNNModel(nn.Module):
    def __init__(self, ntoken):
        super().__init__()
        self.drop = nn.Dropout(a.dropout)
        self.encoder = nn.Embedding(ntoken, a.emsize)
        self.rnn = nn.LSTM(a.emsize, a.nhid, a.nlayers, dropout=a.dropout)
        self.decoder = nn.Linear(a.nhid, ntoken)
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

    def forward(self, x, hidden=None):  # x: (T, B), the example's layout
        out, hidden = self.rnn(self.drop(self.encoder(x)), hidden)
        return self.decoder(self.drop(out)), hidden


def batchify(data, bsz):
    n = len(data) // bsz
    return data[: n * bsz].view(bsz, n).t().contiguous()


@torch.no_grad()
def evaluate(model, data, chars, streams=10):
    """(nats/token, bits/char): every token but the first predicted, state carried."""
    model.eval()
    n = len(data) - 1
    L = -(-n // streams)
    x = F.pad(data[:-1], (0, streams * L - n)).view(streams, L).t()
    y = F.pad(data[1:], (0, streams * L - n), value=-100).view(streams, L).t()
    nats, hidden = 0.0, None
    for i in range(0, L, a.bptt):
        out, hidden = model(x[i : i + a.bptt], hidden)
        nats += float(F.cross_entropy(out.flatten(0, 1), y[i : i + a.bptt].flatten(),
                                      reduction="sum"))  # fmt: skip
    model.train()
    return nats / n, nats / math.log(2) / chars


model = RNNModel(len(vocab))
train = batchify(ids["train"], a.batch_size)
lr, best, best_state, step, hidden, i = a.lr, math.inf, None, 0, None, 0
log = open(a.out, "w")
log.write(json.dumps({"peer": "word_lm", "args": vars(a), "vocab": len(vocab), "oov": oov,
                      "val_chars": files["val"][1]}) + "\n")  # fmt: skip
t0 = time.monotonic()
last, paused = 0.0, 0.0  # paused: seconds spent validating, off the clock


def clock():
    return time.monotonic() - t0 - paused


while clock() < budget:
    if i >= len(train) - 1:  # a new epoch
        i, hidden = 0, None
    seq = min(a.bptt, len(train) - 1 - i)
    x, y = train[i : i + seq], train[i + 1 : i + 1 + seq]
    i += seq
    hidden = None if hidden is None else tuple(h.detach() for h in hidden)
    model.zero_grad()
    out, hidden = model(x, hidden)
    F.cross_entropy(out.flatten(0, 1), y.flatten()).backward()
    nn.utils.clip_grad_norm_(model.parameters(), a.clip)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(p.grad, alpha=-lr)
    step += 1
    if clock() - last >= every or clock() >= budget:
        e0 = time.monotonic()
        vl, vb = evaluate(model, ids["val"], files["val"][1])
        if vl < best:
            best, best_state = vl, {k: v.clone() for k, v in model.state_dict().items()}
        else:
            lr /= 4.0
        paused += time.monotonic() - e0
        last = clock()
        row = {"wall_s": round(last, 2), "eval_s": round(paused, 1), "step": step, "lr": lr, "val_loss": vl,
               "val_bpc": vb}  # fmt: skip
        log.write(json.dumps(row) + "\n")
        log.flush()
if "test" in ids and best_state is not None:
    model.load_state_dict(best_state)
    tl, tb = evaluate(model, ids["test"], files["test"][1])
    log.write(json.dumps({"test_loss": tl, "test_bpc": tb, "test_chars": files["test"][1]}) + "\n")
log.close()
