"""``rnnlab demo --build`` end to end on a tiny recipe: train, ship compact weights, record a
manifest entry whose metric the shipped weights reproduce; a finished run is reused."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from rnnlab.errors import InputError
from rnnlab.tasks.demo import build as B
from rnnlab.tasks.demo import recipes as R
from rnnlab.tasks.demo import shipped as S

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"


@pytest.fixture
def tiny(monkeypatch, tmp_path):
    """The "gru" and "bigru" recipes at 3 steps and a tiny size, shipped into tmp_path."""
    small = {"embed": 16, "hidden": 16}
    by = {n: dataclasses.replace(R.BY_NAME[n], settings={**R.BY_NAME[n].settings, "steps": 3,
                                                         **small}) for n in ("gru", "bigru")}  # fmt: skip
    for mod in (B, S):
        monkeypatch.setattr(mod, "BY_NAME", {**R.BY_NAME, **by})
    models = tmp_path / "models"
    monkeypatch.setattr(B, "SHIPPED", models)
    monkeypatch.setattr(B, "MANIFEST", models / "manifest.json")
    monkeypatch.setattr(S, "SHIPPED", models)
    monkeypatch.setattr(S, "MANIFEST", models / "manifest.json")
    return by, tmp_path


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/data is not available")
def test_build_ships_measures_records_and_reuses(tiny):
    by, tmp = tiny
    logs: list[str] = []
    man = B.build(["gru", "bigru"], SHARED, work=tmp / "work", progress=False, log=logs.append)
    assert sorted(man) == ["bigru", "gru"]
    e = man["gru"]
    assert e["settings"] == by["gru"].settings and e["steps"] == 3 and e["seed"] == 0
    assert e["group"] == "words" and e["command"] == "rnnlab demo --build --only gru"
    assert len(e["data_sha256"]) == 64 and e["size_bytes"] > 0
    # the manifest's metric is that of the shipped (compact) weights
    assert S.measure(by["gru"], tmp / "models" / "gru") == e["metrics"]
    assert json.loads((tmp / "models" / "manifest.json").read_text()) == man
    # a second build of a finished run reuses it instead of training again
    B.build(["gru"], SHARED, work=tmp / "work", progress=False, log=logs.append)
    assert any("reusing the finished run" in line for line in logs)


def test_build_names_unknown_models_and_missing_data(tmp_path):
    with pytest.raises(InputError, match="no shipped model named 'gpt'"):
        B.build(["gpt"], tmp_path)
    with pytest.raises(InputError, match="is not a folder"):
        B.build(["gru"], tmp_path / "nowhere")
    # an existing folder without the data fails before anything trains or ships
    with pytest.raises(InputError, match="eng-fra-74k.txt does not exist"):
        B.build(["gru"], tmp_path, work=tmp_path / "work")
    assert not (tmp_path / "work").exists()


def test_finished_wants_the_same_settings(tiny, tmp_path):
    from rnnlab.data.builtin import corpus_text
    from rnnlab.tasks.lm.train import train_lm

    by, _ = tiny
    r = by["gru"]
    run = tmp_path / "run"
    train_lm(corpus_text("train")[:20000], run, progress=False, **r.settings)
    assert B._finished(run, r)
    assert not B._finished(run, dataclasses.replace(r, settings={**r.settings, "steps": 4}))
    assert not B._finished(tmp_path / "absent", r)


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/data is not available")
def test_a_subword_translator_ships_with_its_pieces(monkeypatch, tmp_path):
    from rnnlab.tasks.translate.infer import load_translator, source_ids

    tiny = {"embed": 16, "hidden": 16, "steps": 3, "vocab_size": 600, "threads": 1}
    r = dataclasses.replace(R.BY_NAME["translate"], settings={**R.BY_NAME["translate"].settings,
                                                              **tiny})  # fmt: skip
    assert r.settings["tokenizer"] == "bpe"
    work, dest = tmp_path / "work", tmp_path / "translate"
    B._train(r, SHARED, work, progress=False)
    B._ship(r, work, dest)
    tr = load_translator(dest)  # reads subword.model from the shipped folder, not the run
    assert (dest / "subword.model").read_bytes() == (work / "subword.model").read_bytes()
    _, _, unknown = source_ids(tr, "Zyxqvotl is here.")
    assert unknown == []  # a word never seen is spelt in pieces, not <unk>
