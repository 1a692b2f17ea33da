"""A plain torch.nn.LSTM character model: what a user writes without rnnlab (only torch).

    python benchmarks/peers/char_lstm.py --train train.txt --val val.txt --time-budget 15m \
        --threads 1 --out curve.jsonl

Random windows of the training text, Adam, cosine learning rate over the wall-clock budget.
Validates at regular intervals of training time (its clock and budget pause while it validates:
rnnlab's do not, so the comparison errs in the peer's favour) and writes one JSON line per
validation: training seconds so far, validation loss
(nats/char) and bits/char, defined as in rnnlab.tasks.lm.evaluate.bits_per_char: the total
nats of every predicted char (all but the first) / ln 2 / the characters of the text.
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
ap.add_argument("--time-budget", default="5m", help="e.g. 90s, 15m")
ap.add_argument("--eval-every", type=float, default=None, help="seconds (default budget/10)")
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--hidden", type=int, default=512)
ap.add_argument("--layers", type=int, default=2)
ap.add_argument("--embed", type=int, default=64)
ap.add_argument("--batch", type=int, default=32)
ap.add_argument("--seq-len", type=int, default=128)
ap.add_argument("--lr", type=float, default=2e-3)
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--out", default="char_lstm.jsonl")
a = ap.parse_args()
budget = float(a.time_budget[:-1]) * {"s": 1, "m": 60, "h": 3600}[a.time_budget[-1]] \
    if a.time_budget[-1] in "smh" else float(a.time_budget)  # fmt: skip
every = a.eval_every or max(10.0, budget / 10)
torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)
files = {"train": a.train, "val": a.val, "test": a.test}
texts = {k: open(p, encoding="utf-8", newline="").read() for k, p in files.items() if p}
chars = sorted(set(texts["train"]))
stoi = {c: i for i, c in enumerate(chars)}
ids = {k: torch.tensor([stoi.get(c, 0) for c in t]) for k, t in texts.items()}  # unseen -> 0


class CharLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(len(chars), a.embed)
        self.lstm = nn.LSTM(a.embed, a.hidden, a.layers, batch_first=True)
        self.head = nn.Linear(a.hidden, len(chars))

    def forward(self, x, state=None):
        out, state = self.lstm(self.emb(x), state)
        return self.head(out), state


@torch.no_grad()
def evaluate(model, data, streams=16, window=256):
    """(nats/char, bits/char): every char but the first predicted, state carried."""
    model.eval()
    n = len(data) - 1
    L = -(-n // streams)
    x = F.pad(data[:-1], (0, streams * L - n)).view(streams, L)
    y = F.pad(data[1:], (0, streams * L - n), value=-100).view(streams, L)
    nats, state = 0.0, None
    for t in range(0, L, window):
        logits, state = model(x[:, t : t + window], state)
        nats += float(F.cross_entropy(logits.flatten(0, 1), y[:, t : t + window].flatten(),
                                      reduction="sum"))  # fmt: skip
    model.train()
    return nats / n, nats / math.log(2) / len(data)


model = CharLSTM()
opt = torch.optim.Adam(model.parameters(), lr=a.lr)
train, T = ids["train"], a.seq_len
log = open(a.out, "w")
log.write(json.dumps({"peer": "char_lstm", "args": vars(a), "val_chars": len(texts["val"])}) + "\n")
t0 = time.monotonic()
last, paused = 0.0, 0.0  # paused: seconds spent validating, off the clock


def clock():
    return time.monotonic() - t0 - paused


best, best_state, step = math.inf, None, 0
while True:
    elapsed = clock()
    if elapsed >= budget:
        break
    for g in opt.param_groups:  # cosine over the wall-clock budget
        g["lr"] = a.lr * 0.5 * (1 + math.cos(math.pi * elapsed / budget))
    starts = torch.randint(0, len(train) - T - 1, (a.batch,))
    batch = torch.stack([train[s : s + T + 1] for s in starts])
    logits, _ = model(batch[:, :-1])
    loss = F.cross_entropy(logits.flatten(0, 1), batch[:, 1:].flatten())
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    step += 1
    if clock() - last >= every or clock() >= budget:
        e0 = time.monotonic()
        vl, vb = evaluate(model, ids["val"])
        if vl < best:
            best, best_state = vl, {k: v.clone() for k, v in model.state_dict().items()}
        paused += time.monotonic() - e0
        last = clock()
        row = {
            "wall_s": round(last, 2),
            "eval_s": round(paused, 1),
            "step": step,
            "val_loss": vl,
            "val_bpc": vb,
        }
        log.write(json.dumps(row) + "\n")
        log.flush()
if "test" in ids and best_state is not None:
    model.load_state_dict(best_state)
    tl, tb = evaluate(model, ids["test"])
    log.write(
        json.dumps({"test_loss": tl, "test_bpc": tb, "test_chars": len(texts["test"])}) + "\n"
    )
log.close()
