"""The playground page in Debian's chromium: Play on a preset, the curves update several times,
Pause, and the page's numbers are the API's. Screenshot in test-artifacts/."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def playground_url(serve):
    from rnnlab.serve.app import create_app
    from rnnlab.serve.registry import ModelRegistry

    return serve(create_app(ModelRegistry()))


def _wait(page, expression: str, timeout: float = 20.0):
    """Poll a JS expression (not wait_for_function: it evals, which the page's CSP forbids)."""
    t0 = time.monotonic()
    while not (v := page.evaluate(expression)):
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"timed out waiting for: {expression}")
        time.sleep(0.05)
    return v


def test_play_a_preset_watch_it_pause_and_match_the_api(chromium, playground_url):
    ARTIFACTS.mkdir(exist_ok=True)
    pg = chromium.new_page(viewport={"width": 1280, "height": 1400})
    problems: list[str] = []
    pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    pg.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    pg.goto(playground_url + "/playground")
    _wait(pg, "document.body.dataset.ready === '1'")
    assert pg.inner_text("#site-nav").count("Playground") == 1
    # the preset fills the knobs; shrink them so the test is quick on a busy machine
    pg.select_option("#pg-preset", "0")
    assert pg.input_value("#pg-0-cell") == "rnn" and pg.input_value("#pg-1-cell") == "lstm"
    pg.fill("#pg-length", "12")
    pg.fill("#pg-0-hidden", "8")
    pg.fill("#pg-1-hidden", "8")
    pg.dispatch_event("#pg-1-hidden", "change")
    pg.click("#pg-play")
    _wait(pg, "window.playgroundState.snap && window.playgroundState.snap.state === 'playing'")
    seen = set()
    t0 = time.monotonic()
    while len(seen) < 4 and time.monotonic() - t0 < 20:  # the curve is redrawn with new steps
        seen.add(
            pg.evaluate(
                "document.querySelector('#pg-loss path') ? document.querySelector('#pg-loss path').getAttribute('d') : ''"
            )
        )
        time.sleep(0.1)
    assert len(seen - {""}) >= 3, "the loss curve did not update several times"
    pg.click("#pg-pause")
    _wait(pg, "document.getElementById('pg-status').dataset.state === 'paused'")
    time.sleep(0.6)  # a step in flight at the click lands, and is streamed
    ref = pg.evaluate("async () => (await fetch('/api/playground/run')).json()")
    _wait(pg, f"window.playgroundState.snap.version === {ref['version']}", 5)
    snap = ref["snapshot"]
    assert int(pg.get_attribute("#pg-status", "data-step")) == snap["step"] > 0
    for i, lane in enumerate(snap["lanes"]):
        shown = float(pg.get_attribute(f"#pg-view-{i} .n-val_score", "data-value"))
        assert shown == pytest.approx(lane["val_score"], abs=1e-12)
        assert pg.inner_text(f"#pg-view-{i} .n-val_score") == f"{100 * lane['val_score']:.1f}%"
        answer = pg.get_attribute(f"#pg-view-{i} [data-answer]", "data-answer")
        assert answer == lane["answer"]["answer"]
    assert pg.inner_text("#pg-verdict") == snap["verdict"]
    # every training step the API recorded is on the page's curve
    n_page = pg.evaluate("window.playgroundState.curves[0].train.length")
    assert n_page == len(ref["curves"][0]["train"]) == snap["step"]
    pg.screenshot(path=str(ARTIFACTS / "playground.png"), full_page=True)
    pg.close()
    assert problems == []
