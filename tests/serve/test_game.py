"""The game API on tiny language models trained here in seconds: a full round with its scoring
checked against bits computed by hand from the model's own softmax, the session store (TTL,
cap), input validation, the memory challenge and "be the hidden state"; and above all that no
reply before a guess is committed carries the token to guess."""

from __future__ import annotations

import copy
import json
import math

import pytest
import torch
import torch.nn.functional as F
from fastapi.testclient import TestClient

from rnnlab.data.builtin import corpus_text
from rnnlab.serve.app import create_app
from rnnlab.serve.game.beat import player_bits
from rnnlab.serve.game.memory import memory_item, model_answers
from rnnlab.serve.game.store import SessionStore
from rnnlab.serve.registry import ModelRegistry

# held-out sentences whose tokens are all different: a token to guess never appeared before it
HELDOUT = "the cat ran to one mat .\nmy dogs sat on a rug .\n"


@pytest.fixture(scope="module")
def app(game_runs):
    reg = ModelRegistry()
    for name in ("rnn", "gru"):
        reg.add_run(name, game_runs / name, heldout=HELDOUT)
    reg.add_run("char", game_runs / "char", heldout="the cat sat on a mat.\n")
    return create_app(reg)


@pytest.fixture
def client(app):
    app.state.game_store = SessionStore()
    return TestClient(app)


def server_game(app, sid: str):
    """The server's own session (tests only: the browser never sees this)."""
    return app.state.game_store.get(sid)


def hand_bits(app, model: str, text: str) -> tuple[list[int], torch.Tensor]:
    """Token ids (after the start token) and P(next | prefix) from a plain forward pass."""
    lm = app.state.registry.get(model)
    ids = [lm.tokenizer.eos_id, *lm.tokenizer.encode(text)]
    with torch.no_grad():
        logits, _ = lm.model(torch.tensor([ids]))
    return ids, F.softmax(logits[0].double(), -1)


def strings(obj) -> set[str]:
    """Every string value anywhere in a JSON reply."""
    if isinstance(obj, str):
        return {obj}
    if isinstance(obj, dict):
        return set().union(*(strings(v) for v in obj.values())) if obj else set()
    if isinstance(obj, list):
        return set().union(*(strings(v) for v in obj)) if obj else set()
    return set()


PRE_COMMIT_KEYS = {
    "session",
    "model",
    "label",
    "level",
    "unit",
    "mode",
    "n_sentences",
    "sentence",
    "finished",
    "scores",
    "sentence_scores",
    "step",
    "shown",
    "choices",
    "min_confidence",
}


def check_no_leak(app, state: dict) -> None:
    """A reply before a commit: known keys only, and the token to guess nowhere in it."""
    assert set(state) <= PRE_COMMIT_KEYS, set(state) - PRE_COMMIT_KEYS
    g = server_game(app, state["session"])
    truth = g.sentence.words[g.pos]
    assert state["shown"] == g.sentence.words[: g.pos]
    vals = strings({k: v for k, v in state.items() if k != "choices"})
    assert truth not in vals and truth.lower() not in vals


def test_player_bits_by_hand():
    assert player_bits(True, 0.5, 3) == 1.0
    assert player_bits(False, 0.25, 3) == 2.0  # a uniform guess over 4 choices
    assert player_bits(False, 0.5, 3) == pytest.approx(math.log2(6))
    assert player_bits(True, 0.9, 100) == pytest.approx(0.15200309344504997)
    assert player_bits(False, 0.9, 100) == pytest.approx(math.log2(1000))


def test_full_typed_round_scores_match_hand_computed_bits(app, client):
    r = client.post(
        "/api/game/new", json={"model": "gru", "mode": "typed", "sentences": 2, "seed": 3}
    )
    assert r.status_code == 200, r.text
    state = r.json()
    V = len(app.state.registry.get("gru").tokenizer)  # lower-cased vocab: one answer per entry
    want_you = want_rnn = want_own = 0.0
    you_ok = rnn_ok = n = chars = 0
    texts_seen = []
    while not state["finished"]:
        check_no_leak(app, state)
        assert client.get(f"/api/game/session/{state['session']}").json() == state
        g = server_game(app, state["session"])
        text, pos = g.sentence.text, g.pos
        ids, p = hand_bits(app, "gru", text)
        truth_id = ids[pos + 1]  # ids[0] is the start token
        right = n % 2 == 0  # alternate a right and a wrong guess
        guess, conf = (g.sentence.words[pos], 0.5) if right else ("zebra", 0.8)
        res = client.post(
            "/api/game/guess",
            json={"session": state["session"], "guess": guess, "confidence": conf},
        ).json()
        out = res["result"]
        assert out["truth"] == g.sentence.words[pos]
        # you: a hit at 50% is exactly 1 bit; a miss at 80% spreads 0.2 over V-1 other words
        you = 1.0 if right else math.log2((V - 1) / 0.2)
        masked = p[pos].clone()
        masked[[0, 1]] = -1  # <unk>, <eos>: not guesses
        top1 = int(masked.argmax())
        # the RNN by the same rule: as sure as its real probability for its pick (1%..99%)
        c = min(0.99, max(0.01, float(masked.max())))
        rnn = -math.log2(c) if top1 == truth_id else -math.log2((1 - c) / (V - 1))
        own = -math.log2(float(p[pos, truth_id]))
        # the wrong guess "zebra" is outside the tiny vocabulary: flagged as unknown
        assert out["you"] == {"correct": right, "bits": round(you, 4), "unk": not right}
        assert out["rnn"]["bits"] == pytest.approx(rnn, abs=1e-4)
        assert out["rnn"]["confidence"] == pytest.approx(c, abs=1e-5)
        assert out["rnn"]["own_bits"] == pytest.approx(own, abs=1e-4)
        assert out["rnn"]["correct"] == (top1 == truth_id)
        assert out["rnn"]["top"][0][1] == pytest.approx(float(p[pos].max()), abs=1e-5)
        want_own += own
        chars += len(g.sentence.words[pos]) + 1  # a word and its space
        want_you, want_rnn = want_you + you, want_rnn + rnn
        you_ok, rnn_ok, n = you_ok + right, rnn_ok + (top1 == truth_id), n + 1
        if res["sentence_done"]:
            texts_seen.append(res["sentence_text"])
        state = res["state"]
    assert len(texts_seen) == 2 and set(texts_seen) == set(HELDOUT.split("\n")[:2])
    s = state["summary"]
    assert s["n"] == n == sum(len(t.split()) - 1 for t in texts_seen)
    assert s["you"]["correct"] == you_ok and s["rnn"]["correct"] == rnn_ok
    assert s["you"]["bits"] == pytest.approx(want_you, abs=1e-3)
    assert s["rnn"]["bits"] == pytest.approx(want_rnn, abs=1e-3)
    assert s["you"]["bits_per_token"] == pytest.approx(want_you / n, abs=1e-4)
    assert s["rnn"]["own_bits_per_token"] == pytest.approx(want_own / n, abs=1e-4)
    assert s["chars"] == chars
    assert s["you"]["bits_per_char"] == pytest.approx(want_you / chars, abs=1e-4)
    assert s["texts"] == texts_seen and s["shannon_bits_per_char"] == [0.6, 1.3]
    assert s["text"] == f"you: {want_you / n:.2f} bits/word, RNN: {want_rnn / n:.2f} bits/word"
    assert len(s["sentences"]) == 2
    # a finished game says so clearly
    r = client.post("/api/game/guess", json={"session": state["session"], "guess": "a"})
    assert r.status_code == 409 and "finished" in r.json()["detail"]


def test_easy_mode_choices_and_scoring(app, client):
    state = client.post("/api/game/new", json={"model": "rnn", "mode": "easy", "seed": 1}).json()
    check_no_leak(app, state)
    g = server_game(app, state["session"])
    pos = g.pos  # (g is the live server object: g.pos moves on with each guess)
    truth = g.sentence.words[pos]
    ch = state["choices"]
    assert len(ch) == 4 == len(set(ch)) and truth in ch
    assert "<eos>" not in ch and "<unk>" not in ch
    sid = state["session"]
    r = client.post("/api/game/guess", json={"session": sid, "guess": "zebra"})
    assert r.status_code == 422 and "one of the choices" in r.json()["detail"]
    ids, p = hand_bits(app, "rnn", g.sentence.text)
    vocab = app.state.registry.get("rnn").tokenizer.vocab
    pc = p[pos, [vocab.index(c) for c in ch]]
    wrong = next(c for c in ch if c != truth)
    # "no idea" is 1% in easy mode too (it was 25%): a miss then costs little
    out = client.post(
        "/api/game/guess", json={"session": sid, "guess": wrong, "confidence": 0.01}
    ).json()["result"]
    assert out["you"] == {"correct": False, "bits": round(-math.log2(0.99 / 3), 4), "unk": False}
    # the RNN plays the same 4-choice game by the same rule: its pick is its favourite of the
    # 4, its confidence its REAL probability for it (not renormalised over the choices)
    pick = int(pc.argmax())
    c = min(0.99, max(0.01, float(pc[pick])))
    hit = ch[pick].lower() == truth.lower()
    assert out["rnn"]["guess"] == ch[pick] and out["rnn"]["correct"] == hit
    assert out["rnn"]["confidence"] == pytest.approx(c, abs=1e-5)
    rule = -math.log2(c) if hit else -math.log2((1 - c) / 3)
    assert out["rnn"]["bits"] == pytest.approx(rule, abs=1e-4)
    assert out["rnn"]["p_truth"] == pytest.approx(float(p[pos, ids[pos + 1]]), abs=1e-5)
    assert out["choices"] == ch


def test_no_reply_before_commit_depends_on_the_future(app, client):
    """Swap the rest of the sentence on the server: every pre-commit reply stays identical,
    so nothing in it can carry the token to guess."""
    for mode in ("typed", "easy"):
        state = client.post("/api/game/new", json={"model": "gru", "mode": mode, "seed": 5}).json()
        sid = state["session"]
        for _ in range(3):
            before = client.get(f"/api/game/session/{sid}").json()
            g = server_game(app, sid)
            saved = copy.deepcopy((g.sentence.words, g.sentence.truth))
            k = g.pos + (1 if mode == "easy" else 0)  # easy: the choices hold the truth
            g.sentence.words[k:] = ["LEAK"] * (len(g.sentence.words) - k)
            g.sentence.truth[k:] = [0] * (len(g.sentence.truth) - k)
            after = client.get(f"/api/game/session/{sid}").json()
            assert after == before
            assert "LEAK" not in json.dumps(after)
            g.sentence.words[:], g.sentence.truth[:] = saved
            res = client.post(
                "/api/game/guess", json={"session": sid, "guess": (before["choices"] or ["x"])[0]}
            ).json()
            if res["state"]["finished"] or res["sentence_done"]:
                break


def test_errors_are_clear_json(app, client):
    r = client.get("/api/game/session/nope")
    assert r.status_code == 404 and "unknown or expired" in r.json()["detail"]
    r = client.post("/api/game/guess", json={"session": "nope", "guess": "a"})
    assert r.status_code == 404 and "start a new game" in r.json()["detail"]
    r = client.post("/api/game/new", json={"model": "gpt"})
    assert r.status_code == 404 and "rnn, gru, char" in r.json()["detail"]
    for body in (
        {"model": "gru", "mode": "hard"},
        {"model": "gru", "sentences": 11},
        {"model": "gru", "sentences": 0},
        {},
    ):
        assert client.post("/api/game/new", json=body).status_code == 422
    sid = client.post("/api/game/new", json={"model": "gru", "mode": "typed"}).json()["session"]
    for body, code in (
        ({"guess": ""}, 422),
        ({"guess": "two words"}, 422),
        ({"guess": "a", "confidence": 1.0}, 422),
        ({"guess": "a", "confidence": 0}, 422),
        ({"guess": "x" * 51}, 422),
    ):
        r = client.post("/api/game/guess", json={"session": sid, **body})
        assert r.status_code == code and r.json()["detail"], body
    # a character model takes exactly one character, a space included
    st = client.post("/api/game/new", json={"model": "char", "mode": "typed"}).json()
    assert st["unit"] == "char" and st["shown"] == ["t"]
    r = client.post("/api/game/guess", json={"session": st["session"], "guess": "ab"})
    assert r.status_code == 422 and "one character" in r.json()["detail"]
    r = client.post("/api/game/guess", json={"session": st["session"], "guess": "h"})
    assert r.json()["result"]["you"]["correct"] is True


def test_session_store_ttl_and_cap(app, client):
    now = [0.0]
    store = SessionStore(ttl=100, cap=2, clock=lambda: now[0])
    a, b = store.add("a"), store.add("b")
    now[0] = 60
    assert store.get(a) == "a"  # refreshes a
    now[0] = 130  # b idle 130 s > ttl: gone; a idle 70 s: kept
    with pytest.raises(KeyError):
        store.get(b)
    c = store.add("c")
    d = store.add("d")  # cap 2: the least recently used (a) goes
    with pytest.raises(KeyError):
        store.get(a)
    assert store.get(c) == "c" and store.get(d) == "d" and len(store) == 2
    # through the API: an expired game is a clear 404
    app.state.game_store = SessionStore(ttl=100, clock=lambda: now[0])
    sid = client.post("/api/game/new", json={"model": "gru"}).json()["session"]
    now[0] += 101
    r = client.get(f"/api/game/session/{sid}")
    assert r.status_code == 404 and "expired" in r.json()["detail"]


def test_memory_challenge_matches_the_models(app, client):
    d = client.get("/api/game/memory/levels?kind=agreement&seed=7").json()
    assert [lv["level"] for lv in d["levels"]] == [0, 1, 2, 3, 4]
    dist = [lv["distance"] for lv in d["levels"]]
    assert dist == sorted(dist) and dist[0] == 0 and dist[-1] > 8
    assert "answer" not in json.dumps(d)
    lv = d["levels"][2]
    r = client.post(
        "/api/game/memory/answer", json={"kind": "agreement", "level": 2, "seed": 7, "choice": "is"}
    ).json()
    noun = lv["prompt"].split()[1]
    assert r["answer"] == (
        "is"
        if noun in {"dog", "boy", "girl", "teacher", "man", "woman", "cat", "student", "doctor"}
        else "are"
    )
    assert r["correct"] == (r["answer"] == "is")
    assert [m["name"] for m in r["models"]] == ["rnn", "gru", "char"]
    singular = {"dog", "boy", "girl", "teacher", "man", "woman", "cat", "student", "doctor"}
    assert r["other_prompt"].split()[2:] == lv["prompt"].split()[2:]
    assert (r["other_prompt"].split()[1] in singular) != (noun in singular)

    def p_is(lm, prompt: str) -> float:  # P(is), P(are) after the prompt, by hand, renormalised
        tok = lm.tokenizer
        lp = []
        for opt in ("is", "are"):
            ids = tok.encode(f"{prompt} {opt}")
            base = len(tok.encode(prompt))
            if tok.level == "word":
                ids, base = [tok.eos_id, *ids], base + 1
            with torch.no_grad():
                logp = F.log_softmax(lm.model(torch.tensor([ids]))[0][0].double(), -1)
            lp.append(sum(float(logp[t - 1, ids[t]]) for t in range(base, len(ids))))
        return 1 / (1 + math.exp(lp[1] - lp[0]))

    for m in r["models"]:
        lm = app.state.registry.get(m["name"])
        want = p_is(lm, lv["prompt"])
        assert m["probs"]["is"] == pytest.approx(want, abs=1e-4)
        assert m["pick"] == ("is" if want > 0.5 else "are")
        other = p_is(lm, r["other_prompt"])
        assert m["other_clue"] == pytest.approx(
            other if r["answer"] == "is" else 1 - other, abs=1e-4
        )
    for body in (
        {"kind": "colour", "level": 0, "choice": "is"},
        {"kind": "agreement", "level": 5, "choice": "is"},
        {"kind": "agreement", "level": 0, "choice": "was"},
    ):
        assert client.post("/api/game/memory/answer", json=body).status_code == 422
    c = client.get("/api/game/memory/curve?kind=pronoun&items=4").json()
    assert len(c["distance"]) == 5 and c["distance"] == sorted(c["distance"])
    for m in c["models"]:
        for k in ("accuracy", "paired"):
            assert len(m[k]) == 5 and all(a in (0, 0.25, 0.5, 0.75, 1) for a in m[k])
        assert all(0 <= p <= 1 for p in m["p_right"])
        assert all(-1 <= e <= 1 for e in m["effect"])
    # the pairs differ in the clue only; "paired" compares P(right word) across the pair
    a, fa = memory_item("pronoun", 3, 1000), memory_item("pronoun", 3, 1000, flip=True)
    assert a[0].split()[1:] == fa[0].split()[1:] and a[0].split()[0] != fa[0].split()[0]
    assert a[2] == 1 - fa[2]
    gru = app.state.registry.get("gru")
    p = model_answers(
        gru,
        [memory_item("pronoun", lv, 1000 + i)[0] for lv in range(5) for i in range(4)],
        ["he", "she"],
    )
    q = model_answers(
        gru,
        [memory_item("pronoun", lv, 1000 + i, True)[0] for lv in range(5) for i in range(4)],
        ["he", "she"],
    )
    right = torch.tensor(
        [memory_item("pronoun", lv, 1000 + i)[2] for lv in range(5) for i in range(4)]
    )
    idx = torch.arange(20)
    paired = (p[idx, right] > q[idx, right]).double().view(5, 4).mean(1).tolist()
    assert c["models"][1]["name"] == "gru" and c["models"][1]["paired"] == paired
    assert client.get("/api/game/memory/curve?kind=x").status_code == 422


def test_be_the_hidden_state(app, client):
    d = client.post("/api/game/hidden/new", json={"slots": 4, "length": 6, "seed": 2}).json()
    sid = d["session"]
    facts = []
    r = client.post("/api/game/hidden/answer", json={"session": sid, "answer": 1})
    assert r.status_code == 409 and "after the last fact" in r.json()["detail"]
    for step in range(1, 7):
        f = client.post("/api/game/hidden/next", json={"session": sid}).json()
        assert f["step"] == step and "question" not in f
        facts.append((f["fact"]["key"], f["fact"]["value"]))
    q = client.post("/api/game/hidden/next", json={"session": sid}).json()
    key = q["key"]
    truth = [v for k, v in facts if k == key][-1]
    r = client.post("/api/game/hidden/answer", json={"session": sid, "answer": truth}).json()
    assert r["correct"] is True and r["answer"] == truth
    assert [(f["key"], f["value"]) for f in r["facts"]] == facts
    again = client.post("/api/game/hidden/answer", json={"session": sid, "answer": truth})
    assert again.status_code == 409
    # a Beat-the-RNN id is not a hidden-state game
    bid = client.post("/api/game/new", json={"model": "gru"}).json()["session"]
    assert client.post("/api/game/hidden/next", json={"session": bid}).status_code == 404


def test_game_page_and_nav(client):
    r = client.get("/game")
    assert r.status_code == 200 and "Beat the RNN" in r.text and "/static/game.js" in r.text
    assert {"path": "/game", "label": "Game"} in client.get("/api/pages").json()["pages"]
    for f in ("game.js", "game.css"):
        assert client.get(f"/static/{f}").status_code == 200
    models = client.get("/api/game/models").json()["models"]
    assert [m["name"] for m in models] == ["rnn", "gru", "char"]
    assert models[0]["sentences"] == 2


def test_recall_task_models_do_not_play_and_memory_wants_word_models(lm_runs):
    from rnnlab.serve.game.players import causal_names
    from rnnlab.serve.registry import ModelRegistry

    reg = ModelRegistry()
    reg.add_run("rnn", lm_runs / "rnn", heldout=corpus_text("val"))
    reg.add_run("recall", lm_runs / "lstm", meta={"group": "recall"})
    reg.add_run("chars", lm_runs / "deep", meta={"group": "chars"})
    reg.add_run("bi", lm_runs / "bi")
    assert causal_names(reg) == ["rnn", "chars"]  # fill-in and recall models cannot play
    assert causal_names(reg, ("words",)) == ["rnn"]
