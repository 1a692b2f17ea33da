"""Seq2seq with attention: padding invariance, teacher forcing, beam search vs exhaustive search,
<unk> copying, and the CLI (train / run / eval / plot) with its error messages."""

from __future__ import annotations

import itertools
import json
import math

import pytest
import torch

from rnnlab.data import pairs as P
from rnnlab.tasks import translate as T
from rnnlab.train.checkpoint import save_run


def tiny(attention: bool = True, cell: str = "gru", V: int = 9) -> T.Seq2Seq:
    torch.manual_seed(0)
    m = T.Seq2Seq(11, V, cell=cell, embed=6, hidden=8, dropout=0.0, attention=attention)
    return m.eval()


@pytest.mark.parametrize("attention, cell", [(True, "gru"), (True, "lstm"), (False, "gru")])
def test_padding_does_not_change_a_sentence(attention, cell):
    """A sentence padded into a batch with a longer one gets the logits it gets alone: the
    encoder honours lengths and attention never looks at padding."""
    m = tiny(attention, cell)
    short, long_ = [5, 6, 2], [7, 8, 9, 10, 4, 2]
    tgt = [[4, 5], [6, 7, 8, 5]]
    b = P.make_batch([short, long_], tgt)
    alone = P.make_batch([short], tgt[:1])
    with torch.no_grad():
        both = m(b.src, b.src_len, b.tgt_in)
        one = m(alone.src, alone.src_len, alone.tgt_in)
    torch.testing.assert_close(both[0, :3], one[0], atol=1e-5, rtol=1e-5)


def test_attention_is_a_distribution_over_real_tokens_only():
    m = tiny()
    b = P.make_batch([[5, 2], [7, 8, 9, 2]], [[4], [6]])
    with torch.no_grad():
        enc = m.encode(b.src, b.src_len)
        _, w = m.attend(m.init_state(enc), enc)
    torch.testing.assert_close(w.sum(-1), torch.ones(2))
    assert torch.all(w[0, 2:] == 0) and torch.all(w[0, :2] > 0)


def test_teacher_forcing_ratio_one_and_zero():
    """ratio 1 feeds the reference words (= a hand-written step loop); ratio 0 feeds the
    model's own argmax (= greedy decoding)."""
    m = tiny()
    src, src_len = torch.tensor([[5, 6, 7, 2]]), torch.tensor([4])
    tgt_in = torch.tensor([[P.SOS_ID, 4, 5, 6, 7]])
    with torch.no_grad():
        forced = m(src, src_len, tgt_in, teacher_ratio=1.0)
        enc = m.encode(src, src_len)
        state, manual = m.init_state(enc), []
        for t in range(tgt_in.shape[1]):
            lg, state, _ = m.step(tgt_in[:, t], state, enc)
            manual.append(lg)
        free = m(src, src_len, tgt_in, teacher_ratio=0.0)
    torch.testing.assert_close(forced, torch.stack(manual, 1))
    g = T.greedy(m, src, src_len, max_steps=5)[0]
    n = len(g.ids)
    assert free[0, :n].argmax(-1).tolist() == g.ids


def _seq_logp(m: T.Seq2Seq, src, src_len, ids: list[int]) -> float:
    enc = m.encode(src, src_len)
    state, y, total = m.init_state(enc), torch.tensor([P.SOS_ID]), 0.0
    for tok in ids:
        lg, state, _ = m.step(y, state, enc)
        total += float(torch.log_softmax(lg, -1)[0, tok])
        y = torch.tensor([tok])
    return total


def test_beam_search_with_a_wide_beam_finds_the_exhaustive_optimum():
    """Every output of at most 3 tokens (ending in <eos>, or cut at 3) scored by brute force:
    a beam wide enough to keep everything must return the best of them, and beam 1 = greedy."""
    V, steps = 6, 3
    m = tiny(V=V)
    src, src_len = torch.tensor([[5, 9, 2]]), torch.tensor([3])
    cands = []
    for n in range(1, steps + 1):
        for seq in itertools.product(range(V), repeat=n):
            ended = seq[-1] == P.EOS_ID and P.EOS_ID not in seq[:-1]
            if ended or (n == steps and P.EOS_ID not in seq):
                cands.append(list(seq))
    with torch.no_grad():
        scored = {tuple(c): _seq_logp(m, src, src_len, c) for c in cands}
        best = max(scored, key=scored.get)
        hyps = T.beam_search(m, src, src_len, beam=V**steps, max_steps=steps, alpha=0.0)
        assert tuple(hyps[0].ids) == best
        assert math.isclose(hyps[0].logp, scored[best], abs_tol=1e-4)
        # with length normalisation the ranking is by logp / ((5 + n) / 6) ** alpha
        norm = {c: s / ((5 + len(c)) / 6) ** 1.0 for c, s in scored.items()}
        hyps = T.beam_search(m, src, src_len, beam=V**steps, max_steps=steps, alpha=1.0)
        assert tuple(hyps[0].ids) == max(norm, key=norm.get)
        g = T.greedy(m, src, src_len, steps)[0]
        assert T.beam_search(m, src, src_len, beam=1, max_steps=steps)[0].ids == g.ids


def test_unknown_output_word_copies_the_attended_source_word():
    tr = T.Translator(tiny(), P.Vocab(list(P.SPECIALS) + ["x"]), P.Vocab(list(P.SPECIALS)), {})
    hyp = T.Hypothesis([P.UNK_ID, P.EOS_ID], -1.0, [[0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])
    assert T._finish(tr, hyp, ["le", "zorglub→<unk>", "<eos>"], 0.6) == ["zorglub", "<eos>"]


# ---- CLI -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """One small model trained on the built-in numbers (shared by the CLI tests)."""
    out = tmp_path_factory.mktemp("tr") / "num"
    res = T.train_translate(
        None, out, hidden=48, embed=24, batch=32, steps=150, lr=1e-2, eval_every=75, progress=False
    )
    assert res["steps"] == 150
    return out


def test_training_learns_the_numbers(run_dir):
    rows = [json.loads(x) for x in (run_dir / "log.jsonl").read_text().splitlines()]
    val = [r["metrics"]["val_loss"] for r in rows if r["split"] == "val"]
    n_vocab = len(json.loads((run_dir / "config.json").read_text())["tgt_vocab"])
    # chance is ln(V) ≈ 3.9 nats per word; a model that learned the pattern is far below
    assert val[-1] < 0.35 * math.log(n_vocab), val


def test_cli_run_eval_plot(cli, run_dir, tmp_path):
    r = cli("translate", "run", run_dir, "twenty-one", "--show-attention")
    assert r.code == 0, r.err
    assert "twenty" in r.out and "<eos>" in r.out  # the alignment table's columns
    r = cli("translate", "eval", run_dir, "--beam", "3", "--limit", "30")
    assert r.code == 0, r.err
    res = json.loads((run_dir / "eval.json").read_text())
    assert res["n_sentences"] == 30 and res["greedy"]["bleu"] > 20, res
    assert 0 <= res["beam3"]["chrf"] <= 100
    png = tmp_path / "a.png"
    r = cli("translate", "plot", run_dir, "three hundred", "--out", png)
    assert r.code == 0, r.err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_errors(cli, run_dir, tmp_path):
    r = cli("translate", "run", tmp_path / "nope", "hi")
    assert r.code == 3 and "does not exist" in r.err
    save_run(tmp_path / "lm", {"w": torch.zeros(1)}, {"task": "lm"})
    r = cli("translate", "run", tmp_path / "lm", "hi")
    assert r.code == 3 and "'lm' model" in r.err
    r = cli("translate", "run", run_dir, " ".join(["one"] * 11))
    assert r.code == 2 and "--max-len" in r.err
    bad = tmp_path / "bad.txt"
    bad.write_text("Go.\tVa !\nHi. Salut.\n", encoding="utf-8")
    r = cli("translate", "train", "--pairs", bad, "--steps", "1", "--out", tmp_path / "x")
    assert r.code == 2 and "line 2" in r.err
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    r = cli("translate", "train", "--pairs", empty, "--steps", "1", "--out", tmp_path / "x")
    assert r.code == 2 and "empty" in r.err
    r = cli("translate", "train", "--src-lang", "de", "--steps", "1", "--out", tmp_path / "x")
    assert r.code == 2 and "en → fr" in r.err


def test_no_attention_model_trains_and_refuses_to_plot(cli, tmp_path):
    out = tmp_path / "noatt"
    r = cli(
        "translate", "train", "--no-attention", "--steps", "3", "--hidden", "16",
        "--embed", "8", "--out", out,
    )  # fmt: skip
    assert r.code == 0, r.err
    assert cli("translate", "run", out, "seven", "--beam", "2").code == 0
    r = cli("translate", "plot", out, "seven")
    assert r.code == 2 and "--no-attention" in r.err


# ---- the /translate explorer view ------------------------------------------------------------


def test_translate_view_api_matches_the_task(run_dir, monkeypatch):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from rnnlab.serve.views.translate import router

    monkeypatch.setenv("RNNLAB_TRANSLATE_RUN", str(run_dir))
    app = FastAPI()
    app.include_router(router)
    c = TestClient(app)
    assert c.get("/translate").status_code == 200
    info = c.get("/api/translate/info").json()
    assert info["attention"] and info["src_lang"] == "en" and len(info["examples"]) == 8
    r = c.post("/api/translate", json={"text": "twenty-one", "beam": 3})
    assert r.status_code == 200, r.text
    d = r.json()
    want = T.translate(T.load_translator(run_dir), "twenty-one", beam=3)
    assert d["text"] == want.text and d["src_tokens"] == want.src_tokens
    # the replayed attention is the attention the beam search recorded
    got = [s["attention"] for s in d["steps"]]
    torch.testing.assert_close(torch.tensor(got), torch.tensor(want.attention), atol=1e-3, rtol=0)
    assert len(d["encoder"]["forward"]) == len(d["src_tokens"])
    assert all(s["top"][0][1] >= s["prob"] for s in d["steps"])
    r = c.post("/api/translate", json={"text": " ".join(["one"] * 11)})
    assert r.status_code == 422 and "--max-len" in r.json()["detail"]
    assert c.post("/api/translate", json={"text": "one", "beam": 99}).status_code == 422


@pytest.mark.browser
@pytest.mark.skipif(
    not __import__("pathlib").Path("/usr/bin/chromium").exists(),
    reason="Debian chromium is not installed (/usr/bin/chromium; apt-get install chromium)",
)
def test_translate_page_in_chromium(run_dir, monkeypatch):
    """The page loads the first example, animates encoder then decoder, and its heatmap has
    one cell per (output word, source word) once done; no page errors."""
    import threading
    import time

    import uvicorn
    from fastapi import FastAPI
    from fastapi.staticfiles import StaticFiles

    from rnnlab.serve.server import free_port
    from rnnlab.serve.views.translate import STATIC, router

    pw_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("RNNLAB_TRANSLATE_RUN", str(run_dir))
    app = FastAPI()
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    port = free_port(0)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    t0 = time.monotonic()
    while not server.started and time.monotonic() - t0 < 20:
        time.sleep(0.05)
    problems: list[str] = []
    try:
        with pw_api.sync_playwright() as pw:
            b = pw.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"]
            )
            pg = b.new_page()
            pg.on("pageerror", lambda e: problems.append(str(e)))
            pg.goto(f"http://127.0.0.1:{port}/translate")
            pg.fill("#tr-speed", "100")
            pg.wait_for_function(
                "document.getElementById('tr-status').textContent.startsWith('done')",
                timeout=20000,
            )
            first = pg.input_value("#tr-text")
            want = T.translate(T.load_translator(run_dir), first, beam=5)
            assert pg.inner_text("#out-text") == want.text
            n_cells = pg.locator("#att rect.cell").count()
            assert n_cells == len(want.tgt_tokens) * len(want.src_tokens)
            b.close()
    finally:
        server.should_exit = True
        th.join(5)
    assert not problems, problems
