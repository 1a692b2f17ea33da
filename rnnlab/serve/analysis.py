"""What the explorer shows, computed from a real model with the engine's ``trace``.

Every function takes a ``LoadedModel`` (see ``registry``) and returns JSON-ready dicts:
``trace`` (tokens, hidden states, gates, top-k predictions, surprise), ``generate`` (sampled
tokens with the distribution at each step) and ``neuron`` (what excites one unit over held-out
text). The gradient view has its own module, ``gradients``; the model card is ``cards``.

>>> out = trace(registry.get("gru"), "The cat sat on the mat")   # doctest: +SKIP
>>> out["tokens"], out["steps"][-1]["top"][:3]                    # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from rnnlab.core.sampling import sample_next
from rnnlab.errors import InputError
from rnnlab.serve.contract import ExplorableModel
from rnnlab.serve.registry import LoadedModel

MAX_CHARS = 2000
MAX_TOKENS = 200
START = "⟨s⟩"  # shown for the sentence-boundary token a next-word model starts from
DECIMALS = 4


# ---- tokens --------------------------------------------------------------------------------


def encode(lm: LoadedModel, text: str) -> tuple[list[str], list[int]]:
    """Token strings (as a person reads them) and ids; a next-word model with an
    end-of-sequence token starts from it, as it did after every sentence in training."""
    if not text or not text.strip():
        raise InputError("text is empty: type a sentence")
    if len(text) > MAX_CHARS:
        raise InputError(f"text is {len(text)} characters; the limit is {MAX_CHARS}")
    tok = lm.tokenizer
    eos = tok.eos_id
    ids = [int(i) for i in tok.encode(text)]
    words = list(tok.split(text))
    if len(words) != len(ids):  # defensive: show the vocabulary entries instead
        words = [tok.vocab[i] for i in ids]
    # a trailing end-of-sequence id added by encode would add a step nobody typed
    while ids and eos is not None and ids[-1] == eos and len(ids) > 1:
        ids, words = ids[:-1], words[:-1]
    if lm.causal and eos is not None:
        ids, words = [eos, *ids], [START, *words]
    if len(ids) > MAX_TOKENS:
        raise InputError(f"text is {len(ids)} tokens; the limit is {MAX_TOKENS} (shorten it)")
    if not ids:
        raise InputError("text has no tokens the model can read")
    return words, ids


def prompt_ids(lm: LoadedModel, prompt: str) -> tuple[list[str], list[int]]:
    """``encode``, except that an empty prompt is the start token alone (a new sentence from
    nothing) for a model that has one."""
    if not prompt.strip() and lm.causal and lm.tokenizer.eos_id is not None:
        return [START], [lm.tokenizer.eos_id]
    return encode(lm, prompt)


def unk_flags(ids: Sequence[int], unk_id: int | None) -> list[bool]:
    """Which of ``ids`` the model reads as unknown (``<unk>``, or U+FFFD for a char model),
    aligned 1:1 with them: the one place a view asks "did the model see this token?".

    >>> unk_flags([1, 0, 5], 0)
    [False, True, False]
    """
    return [unk_id is not None and int(i) == unk_id for i in ids]


def logits_of(model: ExplorableModel, out: torch.Tensor) -> torch.Tensor:
    """Vocabulary logits from recurrent-layer outputs (B,T,D*H)."""
    return model.logits_from_output(out)


def _r(t: torch.Tensor) -> list:
    return t.detach().double().round(decimals=DECIMALS).tolist()


def _topk(tok: Any, probs: torch.Tensor, k: int) -> list[list]:
    p, i = probs.topk(min(k, probs.shape[-1]))
    return [[tok.vocab[int(j)], round(float(q), 5)] for q, j in zip(p, i)]


# ---- trace ---------------------------------------------------------------------------------


@torch.no_grad()
def trace(lm: LoadedModel, text: str, k: int = 5) -> dict[str, Any]:
    """Tokens, per-layer/direction hidden states and gates, and per-step predictions.

    ``steps[t]``: ``top`` = top-k of the model's distribution at step t (the next word for a
    next-word model; the word at t given both sides for a fill-in model), ``target`` = the
    word that actually came there, ``p`` = the probability the model gave it, ``bits`` =
    its surprisal −log2 p.

    Unknown words: ``unk[t]`` is True where the model reads token t as ``<unk>`` (the U+FFFD
    unknown character for a char model). A step whose target is unknown has ``target_unk``
    True: its ``p``/``bits`` are the model's probability of ``<unk>``, not of the word typed,
    so they say nothing about surprise at that word. ``mean_bits`` is therefore the mean over
    the steps with a known target only; ``unk_targets`` counts the steps left out and
    ``mean_bits_all`` is the mean over every step with a target (equal to ``mean_bits`` when
    ``unk_targets`` is 0; both None when no step has a target of that kind).
    """
    model, tok = lm.model, lm.tokenizer
    words, ids = encode(lm, text)
    x = torch.tensor([ids])
    tr = model.rnn.trace(model.embed(x))
    probs = F.softmax(logits_of(model, tr.output)[0].float(), dim=-1)
    T = len(ids)
    unk = unk_flags(ids, tok.unk_id)
    steps = []
    for t in range(T):
        tgt = (t + 1 if t + 1 < T else None) if lm.causal else t
        step: dict[str, Any] = {
            "top": _topk(tok, probs[t], k),
            "target": None,
            "p": None,
            "bits": None,
            "target_unk": False,
        }
        if tgt is not None:
            p = float(probs[t, ids[tgt]])
            step.update(target=words[tgt], p=round(p, 6), bits=round(-math.log2(max(p, 1e-12)), 4))
            step["target_unk"] = unk[tgt]
        steps.append(step)
    hidden = [[_r(h[0]) for h in layer] for layer in tr.hidden]
    gates = [[{k2: _r(v[0]) for k2, v in g.items()} for g in layer] for layer in tr.gates]
    pca = [
        [project(lm, layer, d, tr.hidden[layer][d][0]) for d in range(len(tr.hidden[0]))]
        for layer in range(len(tr.hidden))
    ]
    return {
        "model": lm.name,
        "label": lm.label,
        **lm.info,
        "tokens": words,
        "ids": ids,
        "unk": unk,
        "hidden": hidden,
        "gates": gates,
        "pca": pca,
        "steps": steps,
        "mean_bits": _mean([s["bits"] for s in steps if not s["target_unk"]]),
        "mean_bits_all": _mean([s["bits"] for s in steps]),
        "unk_targets": sum(s["target_unk"] for s in steps),
    }


def _mean(xs: list) -> float | None:
    xs = [x for x in xs if x is not None]
    return round(sum(xs) / len(xs), 4) if xs else None


# ---- held-out states: PCA basis and neuron statistics ----------------------------------------


@torch.no_grad()
def heldout_states(lm: LoadedModel, max_sentences: int = 300) -> dict[str, Any]:
    """Hidden states of the model over (part of) its held-out text, cached per model."""
    with lm.lock:
        if "heldout" in lm.cache:
            return lm.cache["heldout"]
        lines = [s for s in lm.heldout_text().splitlines() if s.strip()][:max_sentences]
        seqs = []
        for s in lines:
            try:
                seqs.append(encode(lm, s))
            except InputError:
                continue
        res: dict[str, Any] = {"tokens": [], "unk": [], "sentence": [], "states": None}
        if seqs:
            model = lm.model
            L = max(len(i) for _, i in seqs)
            ids = torch.zeros(len(seqs), L, dtype=torch.long)
            for b, (_, i) in enumerate(seqs):
                ids[b, : len(i)] = torch.tensor(i)
            lengths = torch.tensor([len(i) for _, i in seqs])
            tr = model.rnn.trace(model.embed(ids), lengths=lengths)
            mask = torch.arange(L).unsqueeze(0) < lengths.unsqueeze(1)
            res["states"] = [[h[mask] for h in layer] for layer in tr.hidden]
            for b, (w, i) in enumerate(seqs):
                res["tokens"] += w
                res["unk"] += unk_flags(i, lm.tokenizer.unk_id)
                res["sentence"] += [b] * len(w)
            res["lines"] = [w for w, _ in seqs]
        lm.cache["heldout"] = res
        return res


def _basis(lm: LoadedModel, layer: int, d: int, fallback: torch.Tensor):
    key = f"pca{layer}.{d}"
    if key in lm.cache:
        return lm.cache[key]
    st = heldout_states(lm)["states"]
    data, source = (st[layer][d], "held-out text") if st is not None else (fallback, "this text")
    mean = data.mean(0)
    _, s, v = torch.linalg.svd(data - mean, full_matrices=False)
    var = s**2 / max(float((s**2).sum()), 1e-12)
    basis = (mean, v[:2].T, [round(float(e), 4) for e in var[:2]], source)
    if st is not None:
        lm.cache[key] = basis
    return basis


def project(lm: LoadedModel, layer: int, d: int, h: torch.Tensor) -> dict[str, Any]:
    """2-D PCA coordinates of a trajectory (T,H) in the basis of held-out states."""
    if h.shape[0] < 2 and heldout_states(lm)["states"] is None:
        return {"points": [[0.0, 0.0]] * h.shape[0], "explained": [0.0, 0.0], "basis": "none"}
    mean, comp, explained, source = _basis(lm, layer, d, h)
    if comp.shape[1] < 2:  # a one-unit state: pad the second axis
        comp = torch.cat([comp, torch.zeros_like(comp)], 1)
    return {"points": _r((h - mean) @ comp), "explained": explained, "basis": source}


def neuron(lm: LoadedModel, layer: int, direction: int, unit: int, k: int = 15) -> dict[str, Any]:
    """The held-out tokens that drive unit ``unit`` highest and lowest, with their context."""
    check_unit(lm, layer, direction, unit)
    hs = heldout_states(lm)
    if hs["states"] is None:
        return {
            "unit": unit,
            "top": [],
            "bottom": [],
            "sample": [],
            "note": "no held-out text is known for this model",
        }
    a = hs["states"][layer][direction][:, unit]
    toks, sent, unk = hs["tokens"], hs["sentence"], hs["unk"]

    def ctx(i: int) -> dict[str, Any]:
        j0 = max(i - 4, 0)
        while sent[j0] != sent[i]:
            j0 += 1
        return {
            "token": toks[i],
            "unk": unk[i],  # a held-out word the model read as unknown
            "before": " ".join(toks[j0:i]),
            "value": round(float(a[i]), 4),
        }

    order = torch.argsort(a, descending=True).tolist()
    n = len(order)

    def distinct(idx: list[int]) -> list[dict[str, Any]]:
        # many sentences share a prefix, hence the same state: list each word once
        seen, out = set(), []
        for j in idx:
            if toks[j] not in seen:
                seen.add(toks[j])
                out.append(ctx(j))
                if len(out) == k:
                    break
        return out

    sample, i = [], 0  # the first held-out sentences, with the unit's value on each token
    while i < n and len(sample) < 60:
        sample.append([toks[i], round(float(a[i]), 4), sent[i]])
        i += 1
    return {
        "model": lm.name,
        "layer": layer,
        "direction": direction,
        "unit": unit,
        "top": distinct(order),
        "bottom": distinct(order[::-1]),
        "sample": sample,
        "mean": round(float(a.mean()), 4),
        "n_tokens": n,
    }


def check_unit(lm: LoadedModel, layer: int, direction: int, unit: int) -> None:
    info = lm.info
    if not 0 <= layer < info["layers"]:
        raise InputError(f"layer must be 0..{info['layers'] - 1} for {lm.name}, got {layer}")
    if not 0 <= direction < info["directions"]:
        raise InputError(
            f"direction must be 0..{info['directions'] - 1} for {lm.name}, got {direction}"
        )
    if not 0 <= unit < info["hidden_size"]:
        raise InputError(f"unit must be 0..{info['hidden_size'] - 1} for {lm.name}, got {unit}")


# ---- generation ----------------------------------------------------------------------------


@torch.no_grad()
def generate(
    lm: LoadedModel,
    prompt: str,
    length: int = 20,
    temperature: float = 1.0,
    top_k: int | None = None,
    seed: int | None = None,
    k: int = 5,
    sentences: int = 1,
) -> dict[str, Any]:
    """Sample after ``prompt`` until ``sentences`` sentences have ended (or ``length`` tokens),
    carrying the state (no re-reading); each step reports the token, its probability and the
    top-k of the (tempered) distribution. An empty prompt starts a sentence from nothing (the
    start token), for a model that has one."""
    if not lm.causal:
        raise InputError(
            f"{lm.label} fills in blanks (it reads both ways); it cannot "
            "generate: pick a next-word model"
        )
    model, tok = lm.model, lm.tokenizer
    words, ids = prompt_ids(lm, prompt)
    gen = torch.Generator().manual_seed(seed if seed is not None else torch.seed() % 2**31)
    logits, state = model(torch.tensor([ids]))
    eos = tok.eos_id
    steps, out_ids = [], []
    for _ in range(length):
        # a temperature of 0 is greedy (rnnlab.core.sampling: the one sampler)
        nxt, p = sample_next(logits[0, -1], temperature, top_k, generator=gen)
        steps.append(
            {"token": tok.vocab[nxt], "p": round(float(p[nxt]), 5), "top": _topk(tok, p, k)}
        )
        out_ids.append(nxt)
        if nxt == eos and out_ids.count(eos) >= sentences:
            break
        logits, state = model(torch.tensor([[nxt]]), state)
    # one sentence after another, each decoded on its own
    parts, cur = [], []
    for i in out_ids:
        if i == eos:
            parts.append(cur)
            cur = []
        else:
            cur.append(i)
    parts.append(cur)
    text = " ".join(t for t in (tok.decode(p) for p in parts) if t)
    return {
        "model": lm.name,
        "prompt_tokens": words,
        "prompt_unk": unk_flags(ids, tok.unk_id),
        "steps": steps,
        "text": text,
        "temperature": temperature,
    }


@torch.no_grad()
def predict(
    lm: LoadedModel, text: str, k: int = 5, temperature: float = 1.0, word: str | None = None
) -> dict[str, Any]:
    """Top-k of the next token after ``text`` (next-word models only), from the distribution
    at ``temperature``; ``unk`` flags the tokens read as unknown. With ``word``: its
    probability and rank there (``choice``), however far down the list it is.

    >>> predict(lm, "I love eating", word="pizza")["choice"]     # doctest: +SKIP
    {'word': 'pizza', 'p': 0.0123, 'rank': 8, 'known': True}
    """
    if not lm.causal:
        raise InputError(f"{lm.label} fills in blanks; use /api/trace for it")
    words, ids = prompt_ids(lm, text)
    logits, _ = lm.model(torch.tensor([ids]))
    p = F.softmax(logits[0, -1].double() / temperature, -1)
    out = {
        "model": lm.name,
        "tokens": words,
        "unk": unk_flags(ids, lm.tokenizer.unk_id),
        "top": _topk(lm.tokenizer, p.float(), k),
        "temperature": temperature,
    }
    if word is not None:
        out["choice"] = word_choice(lm, p, word)
    return out


def word_choice(lm: LoadedModel, p: torch.Tensor, word: str) -> dict[str, Any]:
    """The probability and rank (1 = the top guess) of one vocabulary entry in ``p``."""
    tok, w = lm.tokenizer, word.strip()
    ids = [int(i) for i in tok.encode(w)] if w else []
    if len(ids) != 1:
        what = "character" if tok.level == "char" else "word"
        raise InputError(f"type one {what} to look up, got {word!r}")
    i = ids[0]
    if tok.unk_id is not None and i == tok.unk_id:
        return {"word": w, "p": None, "rank": None, "known": False}
    return {
        "word": w,
        "p": round(float(p[i]), 6),
        "rank": int((p > p[i]).sum()) + 1,
        "known": True,
    }
