"""The built-in demo corpus: present, small, attributed, split, and rebuildable."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from rnnlab.data import builtin
from rnnlab.data.builtin import build_corpus

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "eng-fra" / "eng-fra.txt"


def test_corpus_is_small_and_compressed():
    assert builtin.CORPUS.stat().st_size < 1_000_000
    assert builtin.CORPUS.read_bytes()[:2] == b"\x1f\x8b"  # gzip magic
    assert builtin.NOTICE.exists() and "CC-BY 2.0" in builtin.NOTICE.read_text()


def test_splits_partition_the_corpus():
    train, val, every = (
        builtin.sentences("train"),
        builtin.sentences("val"),
        builtin.sentences("all"),
    )
    assert len(train) + len(val) == len(every)
    assert len(val) == len(every) // builtin.VAL_EVERY
    assert every[builtin.VAL_EVERY - 1] == val[0] and every[0] == train[0]
    assert builtin.corpus_text("val").count("\n") == len(val)
    with pytest.raises(ValueError):
        builtin.sentences("test")


def test_every_line_is_attributed():
    rows = builtin.attributions()
    tatoeba = [a for _, a in rows if a != "generated"]
    assert len(tatoeba) == 2597  # distinct English sentences of the 5,000 pairs
    assert all(a.startswith("CC-BY 2.0 FR tatoeba.org #") for a in tatoeba)
    assert sum(a == "generated" for _, a in rows) == build_corpus.N_GENERATED


def test_teaching_patterns_are_in_the_training_text():
    text = builtin.corpus_text("train")
    assert text.count("I love eating ") > 100
    assert text.count("The cat sat on the ") > 100
    assert text.count(" sat on the ") > 500
    foods = set(build_corpus.W["food"])
    after = [
        line.split("I love eating ", 1)[1]
        for line in text.splitlines()
        if line.startswith("I love eating ")
    ]
    assert all(any(a.startswith(f) for f in foods) for a in after)


def test_generator_is_deterministic():
    assert build_corpus.generate(50) == build_corpus.generate(50)
    assert len(set(build_corpus.generate(200))) == 200


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/data/eng-fra is not available")
def test_shipped_file_is_what_the_script_builds(tmp_path):
    out = tmp_path / "c.tsv.gz"
    build_corpus.build(SHARED, out)
    assert gzip.decompress(out.read_bytes()) == gzip.decompress(builtin.CORPUS.read_bytes())
