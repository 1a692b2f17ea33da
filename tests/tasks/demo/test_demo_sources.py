"""Which models ``rnnlab demo`` serves: the shipped ones by default, the live ones otherwise."""

from __future__ import annotations

import pytest

from rnnlab.errors import InputError
from rnnlab.tasks.demo import sources
from rnnlab.tasks.demo.recipes import RECIPES


def test_shipped_models_are_served_without_training(monkeypatch):
    monkeypatch.setattr(sources.live, "train_live", lambda *a, **k: pytest.fail("trained"))
    models = sources.demo_models(no_train=True)
    want = [r.name for r in RECIPES if r.group in sources.EXPLORABLE]
    assert [m.name for m in models] == want
    for m in models:
        assert m.meta["shipped"] and m.meta["group"] == m.group and m.meta["metrics"]
        assert (m.run_dir / "config.json").exists() and m.heldout()


def test_without_shipped_models_the_live_cache_or_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("RNNLAB_HOME", str(tmp_path))
    monkeypatch.setattr(sources, "available", lambda: [])
    with pytest.raises(InputError, match="no shipped demo models"):
        sources.demo_models(no_train=True)
    with pytest.raises(InputError, match="contradict"):
        sources.demo_models(retrain=True, no_train=True)
    monkeypatch.setattr(sources.live, "is_trained", lambda root: True)
    models = sources.demo_models(no_train=True)
    assert [m.name for m in models] == ["rnn", "gru", "lstm", "deep", "bigru"]
    assert all(m.run_dir.parent == sources.live.demo_root() for m in models)


def test_retrain_trains_the_five_word_models_live(monkeypatch, tmp_path):
    monkeypatch.setenv("RNNLAB_HOME", str(tmp_path))
    from rnnlab.tasks.demo import live

    real = live.train_live
    # a second of training each: the path, not the quality, is under test
    monkeypatch.setattr(live, "train_live", lambda: real(progress=False, scale=0.02, log=str))
    models = sources.demo_models(retrain=True)
    words = [m for m in models if m.group == "words"]
    assert [m.name for m in words] == ["rnn", "gru", "lstm", "deep", "bigru"]
    assert all(m.run_dir.parent == live.demo_root() for m in words)
    assert live.is_trained(live.demo_root()) and "live" in words[0].meta["data"]
    assert [m.name for m in models if m.group != "words"] == [
        n for n in ("shakespeare", "recall-rnn", "recall-lstm") if n in sources.available()
    ]
