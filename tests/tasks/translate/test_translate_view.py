"""The /translate explorer view: its API against the task, and the page in chromium."""

from __future__ import annotations

import pytest
import torch

from rnnlab.tasks.translate.infer import load_translator, translate


def test_translate_view_api_matches_the_task(run_dir, monkeypatch):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from rnnlab.serve.views.translate import router

    monkeypatch.setenv("RNNLAB_TRANSLATE_RUN", str(run_dir))
    app = FastAPI()
    app.include_router(router)
    c = TestClient(app)
    assert c.get("/translate").status_code == 200
    info = c.get("/api/translate/info").json()
    assert info["attention"] and info["src_lang"] == "en" and len(info["examples"]) == 8
    r = c.post("/api/translate", json={"text": "twenty-one", "beam": 3})
    assert r.status_code == 200, r.text
    d = r.json()
    want = translate(load_translator(run_dir), "twenty-one", beam=3)
    assert d["text"] == want.text and d["src_tokens"] == want.src_tokens
    # the replayed attention is the attention the beam search recorded
    got = [s["attention"] for s in d["steps"]]
    torch.testing.assert_close(torch.tensor(got), torch.tensor(want.attention), atol=1e-3, rtol=0)
    assert len(d["encoder"]["forward"]) == len(d["src_tokens"])
    assert all(s["top"][0][1] >= s["prob"] for s in d["steps"])
    r = c.post("/api/translate", json={"text": " ".join(["one"] * 11)})
    assert r.status_code == 422 and "--max-len" in r.json()["detail"]
    assert c.post("/api/translate", json={"text": "one", "beam": 99}).status_code == 422


@pytest.mark.browser
@pytest.mark.skipif(
    not __import__("pathlib").Path("/usr/bin/chromium").exists(),
    reason="Debian chromium is not installed (/usr/bin/chromium; apt-get install chromium)",
)
def test_translate_page_in_chromium(run_dir, monkeypatch):
    """The page loads the first example, animates encoder then decoder, and its heatmap has
    one cell per (output word, source word) once done; no page errors."""
    import threading
    import time

    import uvicorn
    from fastapi import FastAPI
    from fastapi.staticfiles import StaticFiles

    from rnnlab.serve.server import free_port
    from rnnlab.serve.views.translate import STATIC, router

    pw_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("RNNLAB_TRANSLATE_RUN", str(run_dir))
    app = FastAPI()
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    port = free_port(0)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    t0 = time.monotonic()
    while not server.started and time.monotonic() - t0 < 20:
        time.sleep(0.05)
    problems: list[str] = []
    try:
        with pw_api.sync_playwright() as pw:
            b = pw.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"]
            )
            pg = b.new_page()
            pg.on("pageerror", lambda e: problems.append(str(e)))
            pg.goto(f"http://127.0.0.1:{port}/translate")
            pg.fill("#tr-speed", "100")
            pg.wait_for_function(
                "document.getElementById('tr-status').textContent.startsWith('done')",
                timeout=20000,
            )
            first = pg.input_value("#tr-text")
            want = translate(load_translator(run_dir), first, beam=5)
            assert pg.inner_text("#out-text") == want.text
            n_cells = pg.locator("#att rect.cell").count()
            assert n_cells == len(want.tgt_tokens) * len(want.src_tokens)
            # a word outside the source vocabulary: its chip is drawn as unknown
            pg.fill("#tr-text", "twenty zebra")
            pg.press("#tr-text", "Enter")
            pg.wait_for_selector("#src-chips .tok.unk")
            chips = pg.locator("#src-chips .tok.unk")
            assert chips.count() == 1 and chips.inner_text() == "zebra→<unk>"
            tip = chips.get_attribute("title")
            assert tip == "not in this model's vocabulary: read as <unk>"
            b.close()
    finally:
        server.should_exit = True
        th.join(5)
    assert not problems, problems


def test_translate_view_flags_unknown_source_words(tiny):
    """``src_unk`` is aligned with ``src_tokens`` and True exactly where the source vocabulary
    has no entry (an untrained model: only the reading of the source is checked)."""
    from rnnlab.data import pairs as P
    from rnnlab.serve.views.translate import explain
    from rnnlab.tasks.translate.infer import Translator

    src = P.Vocab([*P.SPECIALS, "one", "two", "three", "four", "five", "six", "seven"])
    tgt = P.Vocab([*P.SPECIALS, "un", "deux", "trois", "quatre", "cinq"])
    tr = Translator(tiny(), src, tgt, {"data": {"lower": True}, "model": {}})
    d = explain(tr, "one zebra two", beam=1)
    assert d["src_unk"] == [i == P.UNK_ID for i in src.encode(P.tokenize("one zebra two"))] + [
        False
    ]
    assert d["src_unk"] == [False, True, False, False] and len(d["src_tokens"]) == 4
    assert d["unknown"] == ["zebra"]
