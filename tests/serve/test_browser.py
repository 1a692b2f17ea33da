"""The explorer page in Debian's chromium (playwright): it loads, reads, steps, and shows the
numbers the API computed. Screenshots go to test-artifacts/ (look at them)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def explorer_url(explorer_app, serve):
    return serve(explorer_app)


@pytest.fixture
def page(chromium, explorer_url):
    ARTIFACTS.mkdir(exist_ok=True)
    pg = chromium.new_page(viewport={"width": 1280, "height": 800})
    pg.problems = []
    pg.on("pageerror", lambda e: pg.problems.append(f"page error: {e}"))
    pg.on("console", lambda m: m.type == "error" and pg.problems.append(f"console: {m.text}"))
    pg.on(
        "request",
        lambda r: (
            r.url.startswith(explorer_url)
            or r.url.startswith("data:")
            or pg.problems.append(f"external request: {r.url}")
        ),
    )
    pg.goto(explorer_url + "/")
    pg.wait_for_selector("body[data-ready='1']", timeout=20000)
    yield pg
    assert pg.problems == []
    pg.close()


def _api(page, path, body):
    return page.evaluate(
        """async ([p, b]) => (await fetch(p, {method: 'POST',
        headers: {'Content-Type': 'application/json'}, body: JSON.stringify(b)})).json()""",
        [path, body],
    )


def _wait_for(page, expression: str, timeout: float = 30000) -> None:
    """Poll a JS expression until it is truthy. Not ``page.wait_for_function``: playwright runs
    its predicate through eval in the page, which the app's Content-Security-Policy forbids
    (``page.evaluate`` goes through the debugging protocol, which the CSP does not govern)."""
    t0 = time.monotonic()
    while not page.evaluate(expression):
        if (time.monotonic() - t0) * 1000 > timeout:
            raise AssertionError(f"timed out waiting for: {expression}")
        time.sleep(0.05)


def _bars(page, sel="#bars"):
    return [
        (r.get_attribute("data-word"), float(r.get_attribute("data-p")))
        for r in page.query_selector_all(f"{sel} .barrow")
    ]


def check_heat(page, sel, mat, shown, gate=False):
    """The canvas of a heatmap holds the API's values (its pixels are the colour map of them),
    and the veil starts right after the ``shown`` steps read."""
    got = page.evaluate(
        """([sel, n]) => { const box = document.querySelector(sel), h = box.heat;
        const ctx = box.querySelector('canvas').getContext('2d'), out = [];
        for (let t = 0; t < h.T; t++) for (let u = 0; u < h.H; u += Math.max(1, (h.H / 7) | 0))
          out.push([t, u, Array.from(ctx.getImageData(t * h.cw + 1, u * h.rh + 1, 1, 1).data.slice(0, 3))]);
        return { out, shown: Number(box.dataset.shown), veil: Number(h.veil.getAttribute('x')),
                 edge: h.left + n * h.cw }; }""",
        [sel, shown],
    )
    assert got["shown"] == shown and got["veil"] == pytest.approx(got["edge"])
    for t, u, rgb in got["out"]:
        fn = "viridisRGB(v)" if gate else "divergingRGB(v, 1)"
        want = page.evaluate(f"(v) => window.Colormaps.{fn}", mat[t][u])
        assert max(abs(a - b) for a, b in zip(rgb, want)) <= 1, (t, u, rgb, want)


def test_read_step_and_values_match_the_api(page):
    page.fill("#text", "The dog sat on the sofa")
    page.select_option("#model", "lstm")
    page.click("#read")
    _wait_for(
        page,
        "window.explorerState.tr && window.explorerState.tr.model === 'lstm'"
        " && window.explorerState.tr.tokens[1] === 'The'"
        " && window.explorerState.tr.tokens[2] === 'dog'",
    )
    ref = _api(page, "/api/trace", {"model": "lstm", "text": "The dog sat on the sofa", "k": 5})
    assert page.inner_text("#pos").startswith("step 1 / 7")
    for _ in range(3):
        page.click("#fwd")
    page.keyboard.press("ArrowRight")  # keyboard works too (focus is on a button)
    page.keyboard.press("ArrowLeft")
    assert page.inner_text("#pos").startswith("step 4 / 7")
    # prediction bars = the API's top-k at this step
    assert _bars(page) == [(w, p) for w, p in ref["steps"][3]["top"]]
    # heatmap: drawn once on a canvas with the API's values, veiled after the current step
    check_heat(page, "#heatmap", ref["hidden"][0][0], shown=4)
    # the gate readout gives the selected unit's exact values at this step
    readout = page.inner_text("#gate-readout")
    assert f"f = {ref['gates'][0][0]['f'][3][0]:.3f}" in readout
    # gates of the LSTM are drawn, hover shows an exact value
    assert {g.get_attribute("data-gate") for g in page.query_selector_all("#gates .heat")} == {
        "i",
        "f",
        "g",
        "o",
        "cell",
    }
    check_heat(page, "#gates .heat[data-gate='f']", ref["gates"][0][0]["f"], shown=4, gate=True)
    heat = page.query_selector("#gates .heat[data-gate='f'] canvas")
    heat.hover(position={"x": 1, "y": 1})  # unit 0 at step 1
    tip = page.inner_text("#tooltip")
    assert "forget" not in tip and f"{ref['gates'][0][0]['f'][0][0]:.4f}" in tip
    # step back, play to the end
    page.click("#back")
    assert page.inner_text("#pos").startswith("step 3 / 7")
    page.click("#play")
    _wait_for(
        page, "document.getElementById('pos').textContent.startsWith('step 7 / 7')", timeout=10000
    )
    page.screenshot(path=str(ARTIFACTS / "explorer_1280.png"), full_page=True)


def test_switch_architecture_and_compare(page):
    _wait_for(page, "document.querySelectorAll('#compare .cmp .barrow').length >= 4")
    labels = [h.inner_text() for h in page.query_selector_all("#compare .cmp h3")]
    assert len(labels) == 4
    # columns stay on the same word, though only next-word models have a start step
    page.click("#fwd")
    page.click("#fwd")
    assert "“cat”" in page.inner_text("#compare .cmp[data-model='bi']")
    assert "“cat”" in page.inner_text("#compare .cmp[data-model='rnn']")
    page.select_option("#model", "bi")
    _wait_for(page, "window.explorerState.tr.model === 'bi'")
    assert page.is_disabled("#dir") is False  # a bidirectional model has two directions
    page.select_option("#dir", "1")
    ref = _api(page, "/api/trace", {"model": "bi", "text": "The cat sat on the bed"})
    check_heat(page, "#heatmap", ref["hidden"][0][1], shown=1)
    assert "both sides" in page.inner_text("#pred-explain")
    page.select_option("#model", "deep")
    _wait_for(page, "window.explorerState.tr.model === 'deep'")
    page.select_option("#layer", "1")
    assert page.query_selector("#gates .heat[data-gate='z']") is not None


def test_gradient_view_matches_the_api(page):
    from rnnlab.serve.gradients import share

    page.click("#grad-long")
    page.wait_for_selector("#grads figure[data-model='lstm'] circle.gcell")
    text = page.input_value("#grad-text")
    ref = _api(page, "/api/gradients/compare", {"models": ["rnn", "lstm"], "text": text})
    for p in ref["panels"]:
        bars = page.query_selector_all(f"#grads figure[data-model='{p['model']}'] rect.gbar")
        got = {int(b.get_attribute("data-t")): float(b.get_attribute("data-g")) for b in bars}
        want = {t: v for t, v in enumerate(p["relative"]) if v > 0}
        assert got.keys() == want.keys() and got[p["ref_step"]] == 1.0
        assert all(got[t] == pytest.approx(want[t], rel=1e-6) for t in got)
    # the words under the charts say what the bars at the compared word show
    said = page.inner_text("#grad-verdict")
    assert said == ref["verdict"]["text"]
    for row in ref["verdict"]["models"]:
        bar = page.query_selector(
            f"#grads figure[data-model='{row['model']}'] rect.gbar[data-t='{row['step']}']"
        )
        assert f"is {share(float(bar.get_attribute('data-g')))} of" in said or (
            f", {share(float(bar.get_attribute('data-g')))} for" in said
        )
    # pick another word to differentiate
    page.click("#grad-pick button:nth-child(3)")
    _wait_for(
        page,
        "document.querySelector('#grad-pick button[aria-pressed=true]')"
        ".textContent === document.querySelectorAll('#grad-pick button')[2].textContent",
    )
    page.locator("#grad-card").screenshot(path=str(ARTIFACTS / "explorer_gradients.png"))


def test_gradient_view_defaults_to_the_recall_pair(chromium, serve, lm_runs):
    from rnnlab.serve.app import create_app
    from rnnlab.serve.registry import ModelRegistry

    reg = ModelRegistry()
    reg.add_run("gru-words", lm_runs / "deep")
    for name in ("rnn", "lstm"):
        reg.add_run(f"recall-{name}", lm_runs / name, heldout="", meta={"group": "recall"})
    url = serve(create_app(reg))
    pg = chromium.new_page(viewport={"width": 1280, "height": 800})
    pg.goto(url + "/")
    pg.wait_for_selector("body[data-ready='1']", timeout=20000)
    pg.wait_for_selector("#grads figure[data-model='recall-lstm'] rect.gbar")
    assert (pg.input_value("#grad-a"), pg.input_value("#grad-b")) == ("recall-rnn", "recall-lstm")
    text = pg.input_value("#grad-text")
    assert text.startswith("remember ") and text.split()[-1] == text.split()[1]
    assert pg.is_visible("#grad-recall")
    said = pg.inner_text("#grad-verdict")
    assert said.startswith("32 words before the target (at “pepper”)")
    pg.close()


def test_generate_neuron_and_model_card(page):
    page.fill("#gen-prompt", "I love eating")
    page.click("#gen-run")
    page.wait_for_selector("#gen-out[data-done='1']")
    n = len(page.query_selector_all("#gen-out button.tok"))
    assert 1 <= n <= 15 and len(_bars(page, "#gen-dist")) == 6
    page.fill("#unit", "7")
    page.press("#unit", "Enter")
    page.wait_for_selector("#neuron ol.ctx li")
    assert page.inner_text("#neuron-text").startswith("Unit 7")
    assert "Parameters" in page.inner_text("#model-card")
    assert page.query_selector("#curve polyline") is not None


def test_compare_table_and_model_card_show_the_api_numbers(page):
    page.wait_for_selector("#compare-table table.ranked")
    ref = page.evaluate("async () => (await fetch('/api/compare')).json()")
    shown = [
        (tr.get_attribute("data-model"), tr.query_selector("td[data-ppl]").inner_text())
        for tr in page.query_selector_all("#compare-table tbody:not(.fillin) tr[data-model]")
    ]
    assert shown == [(r["name"], f"{r['val_ppl']:.1f}") for r in ref["models"]]
    fill = page.query_selector_all("#compare-table tbody.fillin tr[data-model]")
    assert [tr.get_attribute("data-model") for tr in fill] == [r["name"] for r in ref["fillin"]]
    first = page.query_selector("#compare-table tbody tr[data-model]")
    assert first.query_selector_all("td")[-1].inner_text() == f"{ref['models'][0]['params']:,}"
    assert page.inner_text("#compare-summary") == ref["summary"]
    assert page.inner_text("#compare-note") == ref["fillin_note"]
    # the row of the model being read is marked; the card shows its numbers in words
    current = page.get_attribute("#compare-table tr.current", "data-model")
    assert current == page.evaluate("window.explorerState.model")
    page.select_option("#model", "deep")
    _wait_for(page, "document.querySelector('#compare-table tr.current').dataset.model === 'deep'")
    _wait_for(page, "document.querySelector('#model-card tr[data-key=val_ppl]') !== null")
    card = page.evaluate("async () => (await fetch('/api/models/deep')).json()")
    ppl = page.inner_text("#model-card tr[data-key=val_ppl] td")
    assert ppl.startswith(f"{card['metrics']['val_ppl']:.2f} (as unsure as a fair choice")
    assert page.inner_text("#model-card tr[data-key=val_ppl] th") == "Held-out perplexity"
    size = page.inner_text("#model-card tr[data-key='Size on disk'] td")
    assert size == f"{card['size_bytes'] / 1e3:.1f} kB"
    page.locator("#compare-card").screenshot(path=str(ARTIFACTS / "explorer_compare.png"))
    page.locator("#card-card").screenshot(path=str(ARTIFACTS / "explorer_card.png"))


def test_phone_width(chromium, explorer_url):
    pg = chromium.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    pg.goto(explorer_url + "/")
    pg.wait_for_selector("body[data-ready='1']", timeout=20000)
    # nothing but the scrollable diagrams is wider than the screen
    wide = pg.evaluate("document.documentElement.scrollWidth")
    assert wide <= 392
    pg.click("#fwd")
    assert pg.inner_text("#pos").startswith("step 2")
    # a compact mini-player stays in view far down the page: ◀ ▶ and the current word
    pg.evaluate("document.getElementById('gates-card').scrollIntoView()")
    bar = pg.evaluate(
        """() => { const r = document.querySelector('.player-bar').getBoundingClientRect();
        const b = document.getElementById('fwd').getBoundingClientRect();
        return [r.top, r.height, b.top, b.bottom]; }"""
    )
    assert bar[0] == pytest.approx(0, abs=1) and bar[1] <= 100 and 0 <= bar[2] < bar[3] <= 100
    pg.click("#fwd")
    assert pg.inner_text("#pos").startswith("step 3") and pg.is_visible("#pos")
    assert pg.evaluate("document.documentElement.scrollWidth") <= 392
    pg.screenshot(path=str(ARTIFACTS / "explorer_phone.png"), full_page=True)
    pg.close()


UNK_TIP = "not in this model's vocabulary: read as <unk>"


def test_unknown_word_is_drawn_as_unknown(page):
    """A word outside the vocabulary: dashed `unk` token with the exact tooltip in every view
    of the trace, and "unknown word" (not a surprise spike) where it is the target."""
    odd, text = "zyzzyvas", "The cat saw zyzzyvas in the house"
    page.select_option("#model", "lstm")
    page.fill("#text", text)
    page.click("#read")
    _wait_for(page, f"window.explorerState.tr && window.explorerState.tr.tokens.includes('{odd}')")
    ref = _api(page, "/api/trace", {"model": "lstm", "text": text})
    at = ref["tokens"].index(odd)
    assert [i for i, u in enumerate(ref["unk"]) if u] == [at]
    toks = page.query_selector_all("#tokens .tok")
    unk = [t for t in toks if "unk" in (t.get_attribute("class") or "").split()]
    assert [t.inner_text() for t in unk] == [odd]
    assert unk[0].get_attribute("title") == UNK_TIP
    page.click("#last")  # every step drawn
    # the unrolled network's input word and the neuron view's token, SVG and HTML
    word = page.query_selector_all("#unrolled text.word.unk")
    assert len(word) == 1 and word[0].evaluate("n => n.firstChild.textContent") == odd
    assert word[0].evaluate("n => n.querySelector('title').textContent") == UNK_TIP
    ctok = page.query_selector_all("#neuron-text .ctok.unk")
    assert [c.inner_text() for c in ctok] == [odd] and ctok[0].get_attribute("title") == UNK_TIP
    # the surprise curve: no spike for the unknown target, and a note true to the numbers
    assert len(page.query_selector_all("#surprise circle.unk-target")) == 1
    assert len(page.query_selector_all("#surprise polyline")) == 2  # broken at the gap
    note = page.inner_text("#surprise-note")
    assert f"mean surprise {ref['mean_bits']:.2f} bits/word over the known words" in note
    assert f"1 unknown word left out; {ref['mean_bits_all']:.2f} with it" in note
    # at the step that predicts it: "unknown word", not a surprise in bits
    page.click(f"#tokens .tok[data-t='{at - 1}']")
    target = page.inner_text("#target")
    assert f"“{odd}”: unknown word" in target and "surprise =" not in target
    page.click(f"#tokens .tok[data-t='{at}']")
    assert "(read as <unk>)" in page.inner_text("#pred-explain")
    page.locator("#pred-card").screenshot(path=str(ARTIFACTS / "explorer_unknown_word.png"))
    # gradients: the word to pick and the axis label; the prompt of a generation
    page.fill("#grad-text", text)
    page.click("#grad-run")
    page.wait_for_selector("#grads figure[data-model='lstm'] text.unk")
    pick = page.query_selector_all("#grad-pick .tok.unk")
    assert [p.inner_text() for p in pick] == [odd] and pick[0].get_attribute("title") == UNK_TIP
    page.fill("#gen-prompt", f"I saw {odd}")
    page.click("#gen-run")
    page.wait_for_selector("#gen-out[data-done='1']")
    span = page.query_selector_all("#gen-out .prompt span.unk")
    assert [s.inner_text() for s in span] == [odd] and span[0].get_attribute("title") == UNK_TIP


@pytest.fixture
def no_speech_model(monkeypatch, tmp_path):
    """The speech page without a model: the run it is pointed at does not exist. (How "no
    model" arises is ``rnnlab.serve.views.speech``'s business; only this fixture knows it.)"""
    monkeypatch.setenv("RNNLAB_SPEECH_RUN", str(tmp_path / "no-such-run"))


def test_hidden_controls_stay_hidden_without_a_speech_model(page, explorer_url, no_speech_model):
    """`[hidden]` beats a stylesheet's display (#sp-inputs is a flex .row): the dead controls
    are not shown, the how-to is."""
    page.goto(explorer_url + "/speech")
    _wait_for(page, "!document.getElementById('sp-howto').hidden")
    assert page.is_visible("#sp-howto") and page.inner_text("#sp-howto-cmd").strip()
    for sel in ("#sp-inputs", "#sp-sample", "#sp-file", "#sp-rec", "#sp-result"):
        assert not page.is_visible(sel), sel


def test_speech_caption_says_what_the_shipped_model_reads(page, explorer_url, monkeypatch):
    """The picture is the 40 log-mel bands; the caption says the model reads 13 MFCCs of them,
    as the API says (the shipped recogniser reads MFCCs)."""
    monkeypatch.delenv("RNNLAB_SPEECH_RUN", raising=False)
    page.goto(explorer_url + "/speech")
    page.wait_for_selector("#sp-samples button", timeout=20000)
    page.click("#sp-samples button")
    _wait_for(page, "!document.getElementById('sp-result').hidden")
    cap = page.inner_text("#sp-spec-cap")
    assert "40 mel bands" in cap and "reads 13 MFCCs per frame" in cap, cap
