"""``rnnlab demo --build``: train every shipped model from ``../shared/data`` and ship it.

For each recipe (``recipes.RECIPES``): train it with its seed and step budget into a work folder
(a finished run there with the same settings is reused, so an interrupted build resumes model
by model), compact the weights (``train.checkpoint.pack_run``: fp16, int8 rows for matrices of
64k elements or more) into ``models/<name>``, measure the shipped weights on their held-out split
(``shipped.measure``) and record in ``models/manifest.json``: the data and its SHA-256, the
seed, the settings, the training time and steps, the metrics, the size on disk, the machine.

>>> build(["gru"], Path("../shared/data"))          # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import time
from pathlib import Path
from typing import Any

import torch

from rnnlab import __version__
from rnnlab.data import pairs as P
from rnnlab.data.audio import fsdd_index
from rnnlab.data.builtin import CORPUS, corpus_text, sentences
from rnnlab.data.subword import MODEL_FILE
from rnnlab.data.tokenize import WordTokenizer
from rnnlab.errors import CheckpointError, InputError
from rnnlab.io import atomic_write_json, rnnlab_home
from rnnlab.tasks.demo.recall import recall_corpus
from rnnlab.tasks.demo.recipes import BY_NAME, DATA, Recipe
from rnnlab.tasks.demo.shipped import MANIFEST, SAMPLES, SHIPPED, manifest, measure
from rnnlab.tasks.fillin.train import train_fill
from rnnlab.tasks.lm.train import train_lm
from rnnlab.tasks.speech.config import SpeechData
from rnnlab.tasks.speech.data import run_split
from rnnlab.tasks.speech.train import train_speech
from rnnlab.tasks.translate.config import SPLIT_FILE
from rnnlab.tasks.translate.evaluate import bleu_chrf, read_split
from rnnlab.tasks.translate.infer import load_translator, translate_batch
from rnnlab.tasks.translate.train import train_translate
from rnnlab.train.checkpoint import pack_run, read_config
from rnnlab.train.loop import read_log

N_TEST_PAIRS = 500  # test sources of the translator that ship (with all their references)
SAMPLES_PER_DIGIT = 2  # bundled speech recordings: 20 in all, from the test split
COMMAND = "rnnlab demo --build"


def data_sha256(recipe: Recipe, shared: Path) -> str:
    """SHA-256 of what the recipe trains on: the shared file (for FSDD: the names and bytes of
    every recording), or the generated text of the recall task."""
    h = hashlib.sha256()
    if recipe.data == "recall":
        h.update("".join(recall_corpus(int(recipe.settings["seed"]))).encode())
        return h.hexdigest()
    path = shared / DATA[recipe.data][0]
    files = sorted(path.rglob("*.wav")) if path.is_dir() else [path]
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def _finished(run: Path, recipe: Recipe) -> bool:
    """A complete run of exactly these settings is already in ``run``."""
    try:
        cfg = read_config(run)
    except CheckpointError:  # absent or broken: train it again
        return False
    given = {**cfg.get("model", {}), **cfg.get("data", {}), **cfg.get("train", {})}
    same = all(given.get(k) == v for k, v in recipe.settings.items())
    rows = read_log(run)
    return same and bool(rows) and rows[-1].get("step", 0) >= recipe.settings.get("steps", 0)


def _train(recipe: Recipe, shared: Path, run: Path, progress: bool) -> None:
    if run.exists():
        shutil.rmtree(run)  # a partial or different run: start again from the seed
    s = recipe.settings
    if recipe.kind == "lm" and recipe.data == "english":
        train_lm(corpus_text("train"), run, val=corpus_text("val"), progress=progress, **s)
    elif recipe.kind == "lm" and recipe.data == "recall":
        train_text, val_text = recall_corpus(int(s["seed"]))
        train_lm(train_text, run, val=val_text, progress=progress, **s)
    elif recipe.kind == "lm":
        train_lm(shared / DATA[recipe.data][0], run, progress=progress, **s)
    elif recipe.kind == "fill":
        tok = WordTokenizer.fit(corpus_text("train"), min_count=2)  # the word models' vocabulary
        train_fill(tok, sentences("train"), sentences("val"), run, progress=progress, **s)
    elif recipe.kind == "translate":
        train_translate(shared / DATA[recipe.data][0], run, progress=progress, **s)
    elif recipe.kind == "speech":
        train_speech(shared / DATA[recipe.data][0], run, progress=progress, **s)
    else:
        raise ValueError(f"unknown recipe kind {recipe.kind!r}")


def _ship(recipe: Recipe, run: Path, dest: Path) -> None:
    """Compact weights + config into ``dest``, with what the model's page needs beside them."""
    if dest.exists():
        shutil.rmtree(dest)
    pack_run(run, dest)
    shutil.copyfile(run / "log.jsonl", dest / "log.jsonl")  # the card's training curve
    if recipe.kind == "translate":  # the first N_TEST_PAIRS test sources, every reference
        split = json.loads((run / SPLIT_FILE).read_text(encoding="utf-8"))
        keep = list(dict.fromkeys(s for s, _ in split["test"]))[:N_TEST_PAIRS]
        test = [p for p in split["test"] if p[0] in set(keep)]
        atomic_write_json(dest / SPLIT_FILE, {"val": [], "test": test})
        if (run / MODEL_FILE).is_file():  # the subword pieces the model reads and writes
            shutil.copyfile(run / MODEL_FILE, dest / MODEL_FILE)
    if recipe.kind == "speech":  # two test recordings per digit, speakers taken in turn
        test = run_split(SpeechData.from_dict(read_config(run)["data"]))["test"]
        picked: list[Path] = []
        speakers = sorted({r.speaker for r in test})
        for d in range(10):
            mine = sorted((r for r in test if r.digit == d), key=lambda r: (r.index, r.speaker))
            for k in range(SAMPLES_PER_DIGIT):
                want = speakers[(d * SAMPLES_PER_DIGIT + k) % len(speakers)]
                r = next((r for r in mine if r.speaker == want), mine[k])
                picked.append(r.path)
        (dest / SAMPLES).mkdir()
        for p in picked:
            shutil.copyfile(p, dest / SAMPLES / p.name)


def _seconds_and_steps(run: Path) -> tuple[float, int]:
    rows = read_log(run)
    return round(float(rows[-1].get("elapsed", 0.0)), 1), int(rows[-1].get("step", 0))


def _run_metrics(run: Path) -> dict[str, Any]:
    """The metrics the training run itself recorded (e.g. speech's full test split)."""
    m = read_config(run).get("metrics", {})
    return {k: v for k, v in m.items() if isinstance(v, (int, float, dict))}


def build_metrics(recipe: Recipe, run: Path, dest: Path) -> dict[str, Any]:
    """Slower figures measured once at build time (the card shows them; tests do not redo
    them): the translator's beam-search scores on the shipped test sentences and its greedy
    scores on the whole test split."""
    if recipe.kind != "translate":
        return {}
    tr = load_translator(dest)
    out: dict[str, Any] = {}
    for name, where in (("", dest), ("full_", run)):
        srcs, refs = P.references(read_split(where, "test"))
        refs = [[P.normalize(r, tr.lower) for r in rs] for rs in refs]
        out[f"{name}test_sentences"] = len(srcs)
        beams = (1, 5) if not name else (1,)
        for k in beams:
            s = bleu_chrf(translate_batch(tr, srcs, beam=k), refs)
            tag = "greedy" if k == 1 else f"beam{k}"
            out[f"{name}test_bleu_{tag}"], out[f"{name}test_chrf_{tag}"] = s["bleu"], s["chrf"]
    return out


def build(
    names: list[str] | None,
    shared: Path,
    work: Path | None = None,
    progress: bool = True,
    log: Any = print,
) -> dict[str, dict[str, Any]]:
    """Build the named recipes (all when ``names`` is empty) and return the manifest."""
    names = names or list(BY_NAME)
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise InputError(f"no shipped model named {unknown[0]!r}; choose from {', '.join(BY_NAME)}")
    if not shared.is_dir():
        raise InputError(
            f"{shared} is not a folder: --build trains from the shared data "
            "(../shared/data, with eng-fra/, tinyshakespeare/ and fsdd/)"
        )
    work = work or rnnlab_home() / "build"
    # every input must be there before anything trains or a shipped model is replaced
    for path in sorted({DATA[BY_NAME[n].data][0] for n in names} - {""}):
        if not (shared / path).exists():
            raise InputError(
                f"{shared / path} does not exist: --build trains from the shared data folder "
                "(--data, default ../shared/data)"
            )
    if "speech" in names:
        fsdd_index(shared / DATA["fsdd"][0])  # an FSDD folder without recordings fails here
    for name in names:
        recipe = BY_NAME[name]
        run = work / name
        if _finished(run, recipe):
            log(f"{recipe.label}: reusing the finished run in {run}")
        else:
            log(f"{recipe.label}: training ({recipe.settings.get('steps')} steps, seed "
                f"{recipe.settings.get('seed')})")  # fmt: skip
            _train(recipe, shared, run, progress)
        dest = SHIPPED / name
        _ship(recipe, run, dest)
        seconds, steps = _seconds_and_steps(run)
        metrics = measure(recipe, dest)
        entry = {
            "label": recipe.label,
            "kind": recipe.kind,
            "group": recipe.group,
            "data": DATA[recipe.data][1],
            "data_file": DATA[recipe.data][0] or None,
            "data_sha256": data_sha256(recipe, shared),
            "builtin_corpus_sha256": hashlib.sha256(CORPUS.read_bytes()).hexdigest()
            if recipe.data == "english"
            else None,
            "seed": recipe.settings.get("seed"),
            "settings": recipe.settings,
            "training_seconds": seconds,
            "steps": steps,
            "metrics": metrics,
            "build_metrics": build_metrics(recipe, run, dest),
            "run_metrics": _run_metrics(run),
            "size_bytes": sum(f.stat().st_size for f in dest.rglob("*") if f.is_file()),
            "command": f"{COMMAND} --only {name}",
            "built": time.strftime("%Y-%m-%d", time.gmtime()),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
            f"rnnlab {__version__}",
        }
        man = manifest()
        man[name] = entry
        atomic_write_json(MANIFEST, {k: man[k] for k in BY_NAME if k in man})
        log(f"  {recipe.label}: {steps} steps in {seconds:.0f} s, {metrics}, "
            f"{entry['size_bytes'] / 1e6:.2f} MB")  # fmt: skip
    return manifest()
