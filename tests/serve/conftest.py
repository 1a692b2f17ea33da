"""Tiny real models for the explorer tests, trained here in a few seconds.

``lm_registry``: "rnn" (vanilla, 1 layer), "lstm" (1 layer), "deep" (GRU, 2 layers), all
trained by ``train_lm`` on a slice of the built-in corpus, and "bi" (a bidirectional
fill-in-the-blank GRU trained by ``train_fill``). Held-out text: the corpus's val split.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rnnlab.data.builtin import corpus_text, sentences

TRAIN = sentences("train")[::15][:3000]  # every 15th: short and long sentences alike
VAL = sentences("val")[:150]


@pytest.fixture(scope="session")
def lm_runs(tmp_path_factory):
    from rnnlab.tasks.fillin.train import train_fill
    from rnnlab.tasks.lm.model import load_lm
    from rnnlab.tasks.lm.train import train_lm

    root = tmp_path_factory.mktemp("explorer-runs")
    text, val = "\n".join(TRAIN) + "\n", "\n".join(VAL) + "\n"
    for name, cell, layers in (("rnn", "rnn", 1), ("lstm", "lstm", 1), ("deep", "gru", 2)):
        train_lm(
            text,
            root / name,
            level="word",
            val=val,
            cell=cell,
            layers=layers,
            hidden=24,
            embed=16,
            seq_len=16,
            batch=16,
            steps=25,
            lr=1e-2,
            dropout=0.0,
            progress=False,
        )
    tok = load_lm(root / "rnn").tokenizer
    train_fill(
        tok,
        TRAIN,
        VAL,
        root / "bi",
        cell="gru",
        embed=16,
        hidden=24,
        batch=16,
        steps=25,
        lr=1e-2,
        progress=False,
    )
    return root


@pytest.fixture(scope="session")
def lm_registry(lm_runs):
    from rnnlab.serve.registry import ModelRegistry

    reg = ModelRegistry()
    for name in ("rnn", "lstm", "deep", "bi"):
        reg.add_run(
            name,
            lm_runs / name,
            heldout=corpus_text("val"),
            meta={"data": "a slice of the built-in corpus"},
        )
    reg.load_all()
    return reg


@pytest.fixture(scope="session")
def explorer_app(lm_registry):
    from rnnlab.serve.app import create_app

    return create_app(lm_registry)


@pytest.fixture(scope="session")
def api_client(explorer_app):
    from fastapi.testclient import TestClient

    with TestClient(explorer_app) as c:
        yield c


# ---- the game's tiny models: a closed vocabulary of a few words ---------------------------

GAME_TRAIN = [
    "the cat sat on a mat .",
    "my dog ran to one park .",
    "the dog sat on a rug .",
    "the dogs are happy .",
    "the dog is happy .",
    "the cats are tired .",
    "the cat is tired .",
    "my cat ran to a park .",
    "tom said that he was tired .",
    "mary said that she was happy .",
]


@pytest.fixture(scope="session")
def game_runs(tmp_path_factory):
    """Runs "rnn", "gru" (word level) and "char" (GRU, char level), 30 steps each."""
    from rnnlab.tasks.lm.train import train_lm

    root = tmp_path_factory.mktemp("game-runs")
    for name, cell, level in (
        ("rnn", "rnn", "word"),
        ("gru", "gru", "word"),
        ("char", "gru", "char"),
    ):
        train_lm(
            "\n".join(GAME_TRAIN * 30) + "\n",
            root / name,
            level=level,
            cell=cell,
            hidden=24,
            embed=12,
            layers=1,
            seq_len=12,
            batch=8,
            steps=30,
            progress=False,
            dropout=0.0,
            seed=0,
        )
    return root


# ---- a real server and a real browser (the browser tests and the security test) ------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def serve() -> Iterator:
    """``serve(app)`` -> base URL: the app on a free loopback port, in a thread, until the
    test session ends."""
    import uvicorn

    from rnnlab.serve.server import free_port

    running = []

    def start(app) -> str:
        port = free_port(0)
        srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        th = threading.Thread(target=srv.run, daemon=True)
        th.start()
        t0 = time.monotonic()
        while not srv.started:
            if time.monotonic() - t0 > 20:
                pytest.fail("the test server did not start")
            time.sleep(0.05)
        running.append((srv, th))
        return f"http://127.0.0.1:{port}"

    yield start
    for srv, th in running:
        srv.should_exit = True
        th.join(5)


@pytest.fixture(scope="module")
def chromium():
    """Debian's headless chromium driven by playwright; skips when either is missing."""
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian chromium is not installed (/usr/bin/chromium; apt-get install chromium)"
        )
    pw_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with pw_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()
