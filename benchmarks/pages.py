"""Explorer rendering (issue 20, item 6): milliseconds per step in Debian's chromium on a
200-token text, on the shipped demo models (256-unit word models, the 512-unit character LSTM).

    python benchmarks/pages.py [--models gru,lstm,deep,shakespeare] [--steps N] [--no-warmup]

Serves the real app (uvicorn on loopback) with the shipped models, opens the explorer in
headless chromium (1280 × 800), reads a text of 200 tokens (held-out Tatoeba sentences for the
word models, held-out Shakespeare for the character model) and calls the page's
``window.explorerTiming()``: every step from the first to the last, each timed from
``setPos`` to the end of the style and layout it causes (forced), paint not included. Prints a
markdown table (median, p90, worst) and the load average: the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import threading
import time

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
GOAL_MS = 16.0
# the same loop for a page without ``explorerTiming`` (an older explorer, for the "before"
# figure): → key presses, each followed by the forced style and layout
KEYS = """(n) => { const S = window.explorerState, out = [];
  document.getElementById('first').click();
  for (let t = 1; t < Math.min(n, S.tr.tokens.length); t++) { const a = performance.now();
    document.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight' }));
    void document.body.offsetHeight; out.push(performance.now() - a); } return out; }"""
TIMING = f"(n) => (window.explorerTiming ? window.explorerTiming(n) : ({KEYS})(n))"


def text_for(lm, n: int) -> str:
    """Held-out text the model reads as ``n`` tokens at most (its start step included)."""
    from rnnlab.data.builtin import heldout_run

    if lm.tokenizer.level == "char":
        return lm.heldout_text()[: n - 1]
    return heldout_run(lm.tokenizer.encode, n - 1)


def serve(app) -> str:
    import uvicorn

    from rnnlab.serve.server import free_port

    port = free_port(0)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=srv.run, daemon=True).start()
    while not srv.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="gru,lstm,deep,shakespeare")
    ap.add_argument("--steps", type=int, default=10_000, help="time the first N steps only")
    ap.add_argument("--no-warmup", action="store_true", help="skip the warm-up pass")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from rnnlab.serve.analysis import MAX_TOKENS
    from rnnlab.serve.app import create_app
    from rnnlab.serve.demo import demo_registry
    from rnnlab.tasks.demo.sources import demo_models

    reg = demo_registry(demo_models(no_train=True))
    url = serve(create_app(reg))
    print(f"{platform.machine()}, {os.cpu_count()} CPUs; load average {os.getloadavg()}")
    print("\n| model | hidden | tokens | median ms/step | p90 | worst | goal 16 ms |")
    print("|---|---:|---:|---:|---:|---:|---|")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = b.new_page(viewport={"width": 1280, "height": 800})
        pg.goto(url + "/")
        pg.wait_for_selector("body[data-ready='1']", timeout=60000)
        for name in args.models.split(","):
            lm = reg.get(name)
            pg.select_option("#model", name)
            pg.fill("#text", text_for(lm, MAX_TOKENS))
            pg.click("#read")
            n = len(lm.tokenizer.encode(pg.input_value("#text"))) + (lm.tokenizer.level != "char")
            t0 = time.monotonic()
            while pg.evaluate(f"(window.explorerState.tr || {{}}).model !== '{name}' || "
                              f"window.explorerState.tr.tokens.length < {n - 1}"):  # fmt: skip
                if time.monotonic() - t0 > 60:
                    raise SystemExit(f"{name}: the page did not read the text")
                time.sleep(0.05)
            if not args.no_warmup:
                pg.evaluate(TIMING, args.steps)  # warm-up: the JIT, the first layout
            ts = sorted(pg.evaluate(TIMING, args.steps))
            tokens = pg.evaluate("window.explorerState.tr.tokens.length")
            med, p90 = statistics.median(ts), ts[int(0.9 * (len(ts) - 1))]
            ok = "yes" if med <= GOAL_MS else "no"
            hid = lm.info.get("hidden_size", "?")
            print(f"| {name} | {hid} | {tokens} | {med:.2f} | {p90:.2f} | {ts[-1]:.2f} | {ok} |")
        b.close()
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
