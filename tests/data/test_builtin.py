"""The built-in texts: present, small, real, split, and rebuildable from the shared data."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from rnnlab.data import builtin
from rnnlab.data.builtin import build_corpus

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def test_files_are_small_compressed_and_attributed():
    assert builtin.CORPUS.stat().st_size < 1_000_000
    for f in (builtin.CORPUS, builtin.SHAKESPEARE_VAL):
        assert f.read_bytes()[:2] == b"\x1f\x8b"  # gzip magic
    notice = builtin.NOTICE.read_text()
    assert "CC-BY 2.0" in notice and "Tatoeba" in notice and "Shakespeare" in notice


def test_splits_partition_the_corpus():
    train, val, every = (
        builtin.sentences("train"),
        builtin.sentences("val"),
        builtin.sentences("all"),
    )
    assert len(train) + len(val) == len(every) == len(set(every))  # distinct sentences
    assert len(val) == len(every) // builtin.VAL_EVERY
    assert every[builtin.VAL_EVERY - 1] == val[0] and every[0] == train[0]
    assert builtin.corpus_text("val").count("\n") == len(val)
    with pytest.raises(ValueError):
        builtin.sentences("test")


def test_no_generated_templates_in_the_training_text():
    # the old corpus taught "I love eating <food>" from 24,000 templates; real text has a handful
    text = builtin.corpus_text("train")
    assert text.count("I love eating ") < 20
    assert 40_000 < len(builtin.sentences("all")) < 50_000


def test_shakespeare_tail_is_the_lm_split():
    text = "abcdefghij" * 10
    assert build_corpus.shakespeare_val(text) == text[int(len(text) * 0.9) :]
    assert builtin.shakespeare_val().startswith("?\n\nGREMIO:")


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/data is not available")
def test_shipped_files_are_what_the_script_builds(tmp_path):
    eng, sh = tmp_path / "e.gz", tmp_path / "s.gz"
    build_corpus.build(SHARED, eng, sh)
    assert gzip.decompress(eng.read_bytes()) == gzip.decompress(builtin.CORPUS.read_bytes())
    assert gzip.decompress(sh.read_bytes()) == gzip.decompress(builtin.SHAKESPEARE_VAL.read_bytes())
    from rnnlab.tasks.lm.config import VAL_FRACTION

    assert build_corpus.VAL_FRACTION == VAL_FRACTION
