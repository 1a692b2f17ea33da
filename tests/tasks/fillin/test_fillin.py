"""The fill-in-the-blank model: it never sees the word it guesses, trains into a sectioned
run, loads back, and is what the explorer's contract asks for."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch

from rnnlab.data.tokenize import WordTokenizer
from rnnlab.errors import CheckpointError
from rnnlab.serve.contract import ExplorableModel
from rnnlab.tasks.fillin.model import FillInModel, load_fill
from rnnlab.tasks.fillin.train import train_fill
from rnnlab.tasks.lm.model import load_lm

SENTENCES = ["the cat sat on the mat .", "the dog sat on the log .", "a cat ran ."] * 20


def test_the_guess_at_t_ignores_word_t():
    torch.manual_seed(0)
    tok = WordTokenizer.fit("\n".join(SENTENCES))
    m = FillInModel(tok, embed=8, hidden=12).eval()
    a = torch.tensor([tok.encode("the cat sat on the mat .")[:-1]])
    b = a.clone()
    b[0, 2] = tok.stoi["dog"]
    with torch.no_grad():
        la, lb = m(a)[0], m(b)[0]
    assert torch.allclose(la[0, 2], lb[0, 2], atol=1e-6)  # word 2 changed, its guess did not
    assert not torch.allclose(la[0, 1], lb[0, 1])  # its neighbours see it
    assert isinstance(m, ExplorableModel) and not m.causal


def test_train_load_and_refuse_as_an_lm(tmp_path):
    tok = WordTokenizer.fit("\n".join(SENTENCES))
    s = train_fill(tok, SENTENCES, SENTENCES[:5], tmp_path / "bi", embed=8, hidden=12,
                   batch=4, steps=6, progress=False)  # fmt: skip
    assert s["steps"] == 6 and "val_ppl" in s["metrics"]
    m = load_fill(tmp_path / "bi")
    cfg = m.config
    assert cfg["task"] == "lm-fill" and cfg["model"]["bidirectional"] is True
    assert cfg["model"]["hidden"] == 12 and cfg["train"]["batch"] == 4
    assert cfg["data"]["sentences"] == len(SENTENCES) and m.tokenizer.vocab == tok.vocab
    with pytest.raises(CheckpointError, match="'lm-fill' model, not a 'lm' model"):
        load_lm(tmp_path / "bi")


def test_the_web_layer_trains_and_imports_no_training_code():
    """serve/ loads models through the tasks (rnnlab.tasks.runs), never rnnlab.train."""
    root = Path(__file__).parents[3] / "rnnlab" / "serve"
    for f in root.rglob("*.py"):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for n in names:
                assert not n.startswith("rnnlab.train"), f"{f.name} imports {n}"
