"""What a model card and the "Compare architectures" table show.

``card(lm)``: architecture, the data it learned from, its held-out metrics named in words,
training time, parameters, size on disk and how it was made: from the registry's ``meta``
(the demo's shipped models) where it has them, else from the run's own files (``config.json``,
the log, the weights file). ``compare(reg)``: the next-word models of one group ranked by
held-out perplexity, fill-in models apart (theirs is another task), and a summary computed
from exactly the numbers in the table.

>>> compare(reg)["summary"]           # doctest: +SKIP
'GRU has the lowest held-out perplexity, 61.2: 0.4 (1%) lower than LSTM (61.6). ...'
"""

from __future__ import annotations

import math
from typing import Any

from rnnlab.serve.registry import LoadedModel, ModelRegistry
from rnnlab.tasks.runs import training_curve, training_seconds

VANILLA = {"rnn", "rnn_tanh", "rnn_relu"}
GATED = {"gru", "lstm", "mingru", "minlstm"}
PPL_DECIMALS = 1  # the table's precision; the summary compares these rounded numbers

# metric key suffix -> (words, unit); the prefix says which text it was measured on
_KINDS = {
    "ppl": ("perplexity", "ppl"),
    "bpc": ("bits per character", "bits"),
    "loss": ("loss", "bits"),  # recorded in nats; shown in bits, the unit of every page
    "top1": ("top-1 accuracy", "share"),
    "top5": ("top-5 accuracy", "share"),
    "acc": ("accuracy", "share"),
}
_SPLITS = {"val": "held-out", "test": "test", "train": "training"}
_ORDER = list(_KINDS)


# ---- the card ------------------------------------------------------------------------------


def group_of(lm: LoadedModel) -> str:
    """The registry's ``meta["group"]``, else "chars" for a character model, "words" otherwise."""
    return str(lm.meta.get("group") or ("chars" if lm.tokenizer.level == "char" else "words"))


def metrics_of(lm: LoadedModel) -> dict[str, Any]:
    """The registry's ``meta["metrics"]``, else the run's recorded ones: one source or the
    other, never mixed (a mix could show a perplexity and a loss of two different runs)."""
    return dict(lm.meta.get("metrics") or lm.config.get("metrics") or {})


def perplexity(metrics: dict[str, Any]) -> float | None:
    """``val_ppl``, else exp(``val_loss``), else None."""
    if metrics.get("val_ppl") is not None:
        return float(metrics["val_ppl"])
    if metrics.get("val_loss") is not None:
        return math.exp(float(metrics["val_loss"]))
    return None


def metric_rows(metrics: dict[str, Any], level: str, causal: bool) -> list[dict[str, Any]]:
    """Each numeric metric as ``{key, label, value, unit}``, named in words ("held-out
    perplexity", "held-out bits per character"), perplexity first."""
    per = "character" if level == "char" else "word"
    rows = []
    for key, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        split, _, kind = key.partition("_")
        if key == "step":
            label, unit = "step of the best checkpoint", "count"
        elif split in _SPLITS and kind in _KINDS:
            words, unit = _KINDS[kind]
            label = f"{_SPLITS[split]} {words}"
            if kind == "loss":
                label += f" (bits per {per})"
                value = float(value) / math.log(2)
            elif kind == "ppl" and not causal:
                label += " (of each word from both sides)"
            elif kind == "ppl" and level == "char":
                label += " (per character)"
        else:
            label, unit = key.replace("_", " "), "number"
        rows.append({"key": key, "label": label, "value": float(value), "unit": unit})
    rank = {k: i for i, k in enumerate(_ORDER)}
    rows.sort(key=lambda r: rank.get(r["key"].partition("_")[2], len(rank)))
    return rows


def size_on_disk(lm: LoadedModel) -> int | None:
    """``meta["size_bytes"]``, else the size of the run's weights file (None: no file)."""
    if lm.meta.get("size_bytes") is not None:
        return int(lm.meta["size_bytes"])
    weights = lm.run_dir / "model.safetensors" if lm.run_dir is not None else None
    return weights.stat().st_size if weights is not None and weights.is_file() else None


def seconds_trained(lm: LoadedModel) -> float | None:
    """``meta["training_seconds"]``, else the last time the run's log recorded."""
    if lm.meta.get("training_seconds") is not None:
        return round(float(lm.meta["training_seconds"]), 1)
    return training_seconds(lm.run_dir) if lm.run_dir is not None else None


def card(lm: LoadedModel) -> dict[str, Any]:
    """Architecture, parameters, data, held-out metrics, training time, size on disk, how it
    was made, and the training curve."""
    cfg = lm.config
    metrics = metrics_of(lm)
    ppl = perplexity(metrics)
    curve = training_curve(lm.run_dir) if lm.run_dir is not None else {"train": [], "val": []}
    data = cfg.get("data") or {}
    # one flat table of the run's settings (the sections of config.json, small values only)
    flat = {"task": cfg.get("task"), **(cfg.get("model") or {}), **data, **(cfg.get("train") or {})}
    skip = {"tokenizer", "vocab", "metrics", "weights_sha256", "versions"}
    return {
        "model": lm.name,
        "label": lm.label,
        **lm.info,
        "vocab_size": len(lm.tokenizer),
        "level": lm.tokenizer.level,
        "group": group_of(lm),
        "data": str(lm.meta.get("data") or data.get("source", "")),
        "val_ppl": None if ppl is None else round(float(ppl), 3),
        "metrics": metrics,
        "metric_rows": metric_rows(metrics, lm.tokenizer.level, lm.causal),
        "training_seconds": seconds_trained(lm),
        "size_bytes": size_on_disk(lm),
        "command": lm.meta.get("command"),
        "limits": lm.meta.get("limits"),
        "config": {k: v for k, v in flat.items() if k not in skip and _small(v)},
        "curve": curve,
        "run_dir": lm.run_dir.name if lm.run_dir else None,  # a name: no server paths
    }


def _small(v: Any) -> bool:
    return isinstance(v, (int, float, str, bool, type(None))) or (
        isinstance(v, (list, dict)) and len(str(v)) < 300
    )


# ---- compare architectures ------------------------------------------------------------------


def compare_row(lm: LoadedModel) -> dict[str, Any]:
    """One model's line of the table (perplexity at the table's precision)."""
    ppl = perplexity(metrics_of(lm))
    return {
        "name": lm.name,
        "label": lm.label,
        "cell": lm.info["cell"],
        "causal": lm.causal,
        "val_ppl": None if ppl is None else round(ppl, PPL_DECIMALS),
        "training_seconds": seconds_trained(lm),
        "params": lm.info["params"],
        "vocab_size": len(lm.tokenizer),
    }


def compare(reg: ModelRegistry, group: str = "words") -> dict[str, Any]:
    """The table of every model of ``group`` in the registry (see ``compare_rows``)."""
    models = [reg.get(n) for n in reg.names()]
    return compare_rows([compare_row(lm) for lm in models if group_of(lm) == group], group)


def compare_rows(rows: list[dict[str, Any]], group: str = "words") -> dict[str, Any]:
    """Rank the next-word rows by perplexity (1 = lowest; equal numbers share a rank; no
    perplexity: no rank, last), keep fill-in rows apart, and say what the numbers show."""
    nxt = [dict(r) for r in rows if r["causal"]]
    fill = [{**r, "rank": None} for r in rows if not r["causal"]]
    known = [r["val_ppl"] for r in nxt if r["val_ppl"] is not None]
    for r in nxt:
        p = r["val_ppl"]
        r["rank"] = None if p is None else 1 + sum(q < p for q in known)
    nxt.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0))
    return {
        "group": group,
        "models": nxt,
        "fillin": fill,
        "summary": summary(nxt),
        "fillin_note": fillin_note(fill),
    }


def _the(label: str) -> str:
    # "Vanilla RNN" -> "the vanilla RNN", "GRU" -> "the GRU" (acronyms keep their case)
    word = label.split(" ", 1)[0]
    return "the " + (label[0].lower() + label[1:] if word[1:].islower() else label)


def _cap(text: str) -> str:
    return text[0].upper() + text[1:]


def _p(r: dict[str, Any]) -> str:
    return f"{r['val_ppl']:.{PPL_DECIMALS}f}"


def _at(r: dict[str, Any]) -> str:
    """ "the GRU at 61.2" (labels may hold parentheses of their own: no more of them here)."""
    return f"{_the(r['label'])} at {_p(r)}"


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def summary(models: list[dict[str, Any]]) -> str:
    """What the next-word rows (ranked, as ``compare_rows`` returns them) show: the lowest
    perplexity and by how much, and how the vanilla RNN fares against the gated cells."""
    ranked = [r for r in models if r["val_ppl"] is not None]
    if not models:
        return "There is no next-word model in this group to compare."
    if not ranked:
        return "None of these models reports a held-out perplexity."
    best = ranked[0]
    if len(ranked) == 1:
        return f"{_cap(_the(best['label']))} is the only model here with a held-out perplexity, {_p(best)}."
    second = ranked[1]
    gap = round(second["val_ppl"] - best["val_ppl"], PPL_DECIMALS)
    if gap == 0:
        ties = [_the(r["label"]) for r in ranked if r["val_ppl"] == best["val_ppl"]]
        out = [f"{_cap(_and(ties))} tie for the lowest held-out perplexity, {_p(best)}."]
    else:
        share = 100 * gap / second["val_ppl"]
        out = [
            f"{_cap(_the(best['label']))} has the lowest held-out perplexity, {_p(best)}: "
            f"{gap:.{PPL_DECIMALS}f} ({share:.0f}%) lower than {_at(second)}."
        ]
    out += _vanilla(ranked)
    sizes = sorted({r["vocab_size"] for r in ranked})
    if len(sizes) > 1:
        out.append(
            f"Careful: these models have different vocabularies ({_and([f'{s:,}' for s in sizes])}"
            " words), so their perplexities do not compare directly."
        )
    return " ".join(out)


def _vanilla(ranked: list[dict[str, Any]]) -> list[str]:
    vanilla = [r for r in ranked if r["cell"] in VANILLA]
    gated = [r for r in ranked if r["cell"] in GATED]
    if not vanilla or not gated:
        return []
    v = vanilla[0]  # the best vanilla one (ranked is sorted)
    not_worse = [g for g in gated if v["val_ppl"] <= g["val_ppl"]]
    better = [g for g in gated if g["val_ppl"] < v["val_ppl"]]
    if not_worse and not better:
        listed = _and([_at(g) for g in not_worse])
        return [f"On this data {_at(v)} is not worse than any gated model: {listed}."]
    if not_worse:
        verb = "does" if len(better) == 1 else "do"
        return [
            f"On this data {_at(v)} is not worse than {_and([_at(g) for g in not_worse])}; "
            f"{_and([_at(g) for g in better])} {verb} better."
        ]
    closest = better[-1]
    gap = round(v["val_ppl"] - closest["val_ppl"], PPL_DECIMALS)
    return [
        f"Every gated model beats {_at(v)}: the closest, {_at(closest)}, by {gap:.{PPL_DECIMALS}f}."
    ]


def fillin_note(fill: list[dict[str, Any]]) -> str | None:
    """Why the fill-in rows are not ranked (None when there are none)."""
    if not fill:
        return None
    which = _and(
        [f"{_the(r['label'])} ({'none' if r['val_ppl'] is None else _p(r)})" for r in fill]
    )
    return (
        f"Not ranked: the perplexity of {which} is of another task, guessing each word from "
        "the words on both sides of it, which is easier than guessing the next word."
    )
