"""A fair game on the explorer's word models (trained on the real built-in corpus, a vocabulary
of thousands of words): easy mode's wrong choices are words the model itself finds plausible
there, and every sentence played is a real held-out sentence of the corpus."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from fastapi.testclient import TestClient

from rnnlab.data.builtin import sentences
from rnnlab.serve.app import create_app
from rnnlab.serve.game.beat import DISTRACTOR_POOL


@pytest.fixture(scope="module")
def client(lm_registry):
    return TestClient(create_app(lm_registry))


def test_easy_choices_are_the_models_own_plausible_words(client, lm_registry):
    lm = lm_registry.get("deep")
    vocab = lm.tokenizer.vocab
    assert len(vocab) > 500  # a real vocabulary: sampling it flat gives absurd choices
    special = {lm.tokenizer.eos_id, lm.tokenizer.unk_id}
    steps = 0
    for seed in range(3):
        st = client.post("/api/game/new", json={"model": "deep", "mode": "easy", "seed": seed})
        st = st.json()
        g = client.app.state.game_store.get(st["session"])
        for _ in range(3):
            if st["finished"]:
                break
            text, pos = g.sentence.text, g.pos
            truth = g.sentence.words[pos]
            ids = [lm.tokenizer.eos_id, *lm.tokenizer.encode(text)]
            with torch.no_grad():
                p = F.softmax(lm.model(torch.tensor([ids[: pos + 1]]))[0][0, -1].double(), -1)
            p[list(special)] = 0
            p[vocab.index(truth) if truth in vocab else 0] = 0
            pool = {vocab[int(i)].casefold() for i in p.topk(DISTRACTOR_POOL).indices}
            wrong = [c for c in st["choices"] if c.casefold() != truth.casefold()]
            assert len(wrong) == 3 and set(c.casefold() for c in wrong) <= pool, (wrong, pool)
            steps += 1
            st = _pick_first(client, st)
            if st is None:
                break
    assert steps >= 6


def _pick_first(client, st):
    """Guess the first choice; the next state, or None when the sentence is done."""
    body = {"session": st["session"], "guess": st["choices"][0]}
    reply = client.post("/api/game/guess", json=body).json()
    return None if reply["sentence_done"] else reply["state"]


def test_a_session_keeps_one_distribution_not_the_sentences(client):
    """A session holds the distribution for the token to guess now and nothing the size of the
    sentence: a row of the model's (T, K) output would keep all T rows alive (the soak test saw
    112 KB per session, 1,000 sessions at the store's cap)."""
    st = client.post("/api/game/new", json={"model": "deep", "mode": "easy", "seed": 2}).json()
    sid = st["session"]
    for _ in range(2):
        st = _pick_first(client, st) if st else None
    g = client.app.state.game_store.get(sid)
    assert g.pos > g.sentence.first  # the sentence has moved on: the prefix grew
    k = g.probs.shape[0]
    assert g.probs.untyped_storage().nbytes() == k * g.probs.element_size()


def test_rounds_play_real_held_out_sentences_only(client):
    held, train = set(sentences("val")), set(sentences("train"))
    st = client.post("/api/game/new", json={"model": "rnn", "sentences": 10, "seed": 4}).json()
    g = client.app.state.game_store.get(st["session"])
    assert len(g.texts) == 10
    assert all(t in held and t not in train for t in g.texts), g.texts


def test_memory_curve_has_enough_items_and_standard_errors(client):
    from rnnlab.serve.game.memory import CURVE_ITEMS

    c = client.get("/api/game/memory/curve?kind=agreement").json()
    assert c["items"] == CURVE_ITEMS >= 40
    for m in c["models"]:
        for k in ("accuracy", "paired"):  # a share over n items: SE = sqrt(a (1 - a) / n)
            want = [(a * (1 - a) / CURVE_ITEMS) ** 0.5 for a in m[k]]
            assert m[f"{k}_se"] == pytest.approx(want, abs=1e-4)
        assert all(0 <= s <= 1 for s in m["effect_se"])


def test_a_memory_answer_scores_only_when_it_depends_on_the_clue(client):
    for level in range(5):
        r = client.post(
            "/api/game/memory/answer",
            json={"kind": "agreement", "level": level, "seed": 3, "choice": "is"},
        ).json()
        for m in r["models"]:
            depends = m["probs"][r["answer"]] > m["other_clue"]
            assert m["pick_correct"] == (m["pick"] == r["answer"])
            assert m["correct"] == (m["pick_correct"] and depends)


def test_hidden_state_games_force_forgetting():
    from rnnlab.serve.game.hidden import MIN_BACK, hidden_facts, newest_answer

    far = 0
    for seed in range(100):
        facts, key = hidden_facts(10, seed)
        last = max(i for i, (k, _) in enumerate(facts) if k == key)
        far += len(facts) - 1 - last >= MIN_BACK
    assert far >= 80  # the asked fact is 4 or more facts back in most games
    # the newest-fact memory, by hand: 3 slots, A pushed out by B, C, D
    facts = [("A", 1), ("B", 2), ("C", 3), ("B", 4), ("D", 5)]
    assert newest_answer(facts, 3, "A") is None and newest_answer(facts, 3, "B") == 4
    assert newest_answer(facts, 4, "A") == 1
