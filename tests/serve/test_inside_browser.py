"""The /inside page in Debian's chromium: each view shows what its API computed (cell
finder, select & match, connectivity, intervene, the tour's equation); screenshots in
test-artifacts/."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TEXT = "The dog sat on the mat because it was tired ."

pytestmark = pytest.mark.browser


def _post(page, path, body):
    js = "async ([p, b]) => (await fetch(p, {method: 'POST', headers: {'Content-Type': "
    js += "'application/json'}, body: JSON.stringify(b)})).json()"
    return page.evaluate(js, [path, body])


def _until(page, js: str, timeout: float = 30.0):
    """Poll ``js`` (page.evaluate: the page's CSP forbids wait_for_function's eval)."""
    end = time.monotonic() + timeout
    while not (v := page.evaluate(js)):
        assert time.monotonic() < end, f"timed out waiting for: {js}"
        time.sleep(0.05)
    return v


@pytest.fixture
def inside(chromium, explorer_app, serve):
    ARTIFACTS.mkdir(exist_ok=True)
    url = serve(explorer_app)
    pg = chromium.new_page(viewport={"width": 1280, "height": 900})
    problems = []
    pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    pg.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    pg.goto(url + "/inside")
    pg.wait_for_selector("body[data-ready='1']", timeout=30000)
    pg.fill("#text", TEXT)
    pg.select_option("#model", "lstm")
    _until(pg, "window.insideState.cells && window.insideState.cells.model === 'lstm'")
    pg.click("#read")
    _until(pg, "window.insideState.tokens.length === 12")
    # the model change and the click each start a read; both must be answered (the tour's
    # trace included) before a test presses keys, or a late answer resets the tour
    _until(pg, "window.insideState.reading === 0 && window.insideState.tour.pending === 0")
    yield pg
    assert problems == []
    pg.close()


def test_every_view_shows_the_api_numbers(inside):
    pg = inside
    # 1. cell finder: the top units and the coloured text are the API's
    cells = _post(pg, "/api/inside/cells", {"model": "lstm", "k": 6})
    det = pg.eval_on_selector("#detector", "s => s.value")
    shown = [int(b.get_attribute("data-unit")) for b in pg.query_selector_all("#top-units button")]
    assert shown == [r["unit"] for r in cells["top"][det]]
    best = cells["top"][det][0]
    ref = _post(
        pg,
        "/api/inside/activations",
        {"model": "lstm", **{k: best[k] for k in ("state", "layer", "direction", "unit")}},
    )
    _until(pg, "document.querySelectorAll('#karpathy span').length > 0")
    vals = [float(s.get_attribute("data-v")) for s in pg.query_selector_all("#karpathy span")]
    assert vals == pytest.approx(ref["values"])
    assert len(pg.query_selector_all("#saturation tr[data-gate]")) == 3

    # 2. select & match: tokens 2..4, threshold 0
    pg.fill("#threshold", "0")
    pg.click("#sel-tokens button[data-i='2']")
    pg.click("#sel-tokens button[data-i='4']")
    sel = _until(pg, "window.insideState.match.result")
    body = {
        "model": "lstm",
        "text": TEXT,
        "start": 2,
        "end": 4,
        "threshold": 0,
        "state": best["state"],
        "layer": 0,
        "detector": det,
    }
    api = _post(pg, "/api/inside/select", body)
    assert sel["units"] == api["units"]
    assert len(pg.query_selector_all("#matches .match")) == len(api["matches"])
    if api["matches"]:
        assert f"{len(api['units'])} unit" in pg.inner_text("#sel-info")

    # 3. connectivity at token 6, with a second row for another word model
    pg.click("#conn-tokens button[data-i='6']")
    _until(pg, "document.querySelectorAll('#conn-rows .heat[data-t=\"6\"]').length === 2")
    for heat in pg.query_selector_all("#conn-rows .heat"):
        name = heat.get_attribute("data-model")
        ref = _post(pg, "/api/inside/connectivity", {"model": name, "text": TEXT, "t": 6})
        got = [float(s.get_attribute("data-g")) for s in heat.query_selector_all("span[data-g]")]
        assert got == pytest.approx(ref["grad"]) and len(got) == 6

    # 4. intervene: unit 3 of h set to 1 from token 2 on
    for sel_id, v in (("#iv-state", "h"), ("#iv-unit", "3"), ("#iv-from", "2"), ("#iv-value", "1")):
        (pg.select_option if sel_id == "#iv-state" else pg.fill)(sel_id, v)
    pg.click("#iv-run")
    _until(pg, "window.insideState.iv.result")
    ref = _post(
        pg,
        "/api/inside/intervene",
        {"model": "lstm", "text": TEXT, "unit": 3, "from_step": 2, "value": 1, "length": 40},
    )
    for cls in ("base", "clamped"):
        lis = pg.query_selector_all(f"#iv-out .{cls} li")
        assert [
            (li.get_attribute("data-token"), float(li.get_attribute("data-p"))) for li in lis
        ] == [tuple(x) for x in ref[cls]["top"]]
    pg.screenshot(path=str(ARTIFACTS / "inside_1280.png"), full_page=True)


def test_tour_keyboard_and_phone_width(inside):
    pg = inside
    pg.set_viewport_size({"width": 390, "height": 844})
    pg.fill("#iv-unit", "5")
    pg.dispatch_event("#iv-unit", "change")
    # the unit change re-renders the tour: wait for it, or it can undo the key presses below
    _until(pg, "document.querySelector('#tour .eq')?.dataset.unit === '5'")
    pg.focus("#tour")
    for _ in range(3):
        pg.keyboard.press("ArrowRight")
    pg.keyboard.press("ArrowLeft")
    _until(pg, "document.querySelector('#tour .eq')?.dataset.t === '2'")
    eq = pg.query_selector("#tour .eq")
    assert eq.get_attribute("data-t") == "2" and eq.get_attribute("data-unit") == "5"
    tr = _post(pg, "/api/trace", {"model": "lstm", "text": TEXT, "k": 3})
    g = tr["gates"][0][0]
    cp = f"{g['cell'][1][5]:.3f}"
    cp = f"({cp})" if cp.startswith("-") else cp
    assert f"c_t = f·c_{{t−1}} + i·g = {g['f'][2][5]:.3f}·{cp}" in eq.inner_text()
    assert f"= {tr['hidden'][0][0][2][5]:.3f}" in eq.inner_text()
    for _ in range(3):  # stop 6: the vanishing gradient, with the connectivity view's numbers
        pg.keyboard.press("ArrowRight")
    live = pg.inner_text("#tour .live")
    ref = _post(pg, "/api/inside/connectivity", {"model": "lstm", "text": TEXT})
    near, first = (float(v) for v in re.findall(r"[0-9.]+e[-+][0-9]+", live))
    assert (near, first) == (
        pytest.approx(ref["grad"][-1], rel=1e-2),
        pytest.approx(ref["grad"][0], rel=1e-2),
    )
    assert pg.evaluate("document.documentElement.scrollWidth") <= 392  # no sideways scroll
    pg.locator("#tour-card").screenshot(path=str(ARTIFACTS / "inside_tour_390.png"))
