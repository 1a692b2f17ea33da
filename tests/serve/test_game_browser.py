"""The game page in Debian's chromium (playwright): play a typed sentence while recording every
API reply the page receives (none may carry the token before its guess is committed), play an
easy round of 2 sentences to the summary and the high-score table, answer the memory challenge
and play "be the hidden state". Screenshots go to test-artifacts/game/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ART = Path(__file__).resolve().parents[2] / "test-artifacts" / "game"
HELDOUT = "the cat ran to one mat .\nmy dogs sat on a rug .\n"  # no token repeats in a line


@pytest.fixture(scope="module")
def server(game_runs, serve, chromium):
    from rnnlab.serve.app import create_app
    from rnnlab.serve.registry import ModelRegistry

    reg = ModelRegistry()
    for name, label in (("rnn", "Vanilla RNN"), ("gru", "GRU")):
        reg.add_run(name, game_runs / name, label=label, heldout=HELDOUT)
    app = create_app(reg)
    return app, serve(app)


@pytest.fixture
def page(server, chromium):
    ART.mkdir(parents=True, exist_ok=True)
    ctx = chromium.new_context(viewport={"width": 1280, "height": 800})
    pg = ctx.new_page()
    pg.set_default_timeout(10_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    ctx.close()
    assert not errors, errors


def strings(obj) -> set[str]:
    if isinstance(obj, str):
        return {obj}
    if isinstance(obj, dict):
        return set().union(set(), *(strings(v) for v in obj.values()))
    if isinstance(obj, list):
        return set().union(set(), *(strings(v) for v in obj))
    return set()


def not_from_the_future(reply: dict) -> set[str]:
    """The strings of a reply, without the RNN's own predictions of the step just judged (its
    top-5 may well name the next word: that is the model's forecast, not the answer)."""
    reply = json.loads(json.dumps(reply))
    if isinstance(reply.get("result"), dict):
        reply["result"]["rnn"].pop("top", None)
        reply["result"]["rnn"].pop("guess", None)
    return strings(reply)


def test_typed_sentence_never_receives_the_next_token_early(server, page):
    from playwright.sync_api import expect

    app, url = server
    replies: list[dict] = []  # every /api/game reply, in the order the page received them

    def record(route):
        resp = route.fetch()
        try:
            replies.append(json.loads(resp.text()))
        except ValueError:
            replies.append({"raw": resp.text()})
        route.fulfill(response=resp)

    page.route("**/api/game/**", record)
    page.goto(url + "/game")
    page.select_option("#beat-model", "gru")
    page.select_option("#beat-mode", "typed")
    page.select_option("#beat-len", "1")
    page.click("#beat-start")
    expect(page.locator("#beat-play")).to_be_visible()
    sid = replies[-1]["session"]
    g = app.state.game_store.get(sid)  # the server's side (the test may look, the page not)
    words = list(g.sentence.words)
    for step in range(1, len(words)):
        expect(page.locator("#beat-pos")).to_contain_text(f"word {step + 1}")
        truth = words[step]
        for r in replies:
            assert truth not in not_from_the_future(r), (truth, r)
        guess = truth if step % 2 else "zebra"
        page.fill("#beat-guess", guess)
        if step == 2:
            page.screenshot(path=str(ART / "typed-before-commit.png"))
        page.press("#beat-guess", "Enter")
        expect(page.locator("#r-truth")).to_have_text(truth)
        expect(page.locator("#r-you")).to_contain_text("right" if step % 2 else "wrong")
        # "zebra" is outside the tiny vocabulary: the page says it could never be right
        unk = page.locator("#r-you .unk")
        expect(unk).to_have_count(0 if step % 2 else 1)
        if not step % 2:
            expect(unk).to_have_attribute("title", "not in this model's vocabulary: read as <unk>")
        if step == 2:
            page.screenshot(path=str(ART / "typed-after-commit.png"), full_page=True)
    expect(page.locator("#beat-summary")).to_be_visible()
    summary = replies[-1]["state"]["summary"]
    expect(page.locator("#s-text")).to_have_text(summary["text"])
    assert summary["n"] == len(words) - 1
    assert summary["you"]["correct"] == sum(1 for s in range(1, len(words)) if s % 2)
    page.screenshot(path=str(ART / "typed-summary.png"), full_page=True)


def test_easy_round_to_summary_and_high_scores(server, page):
    from playwright.sync_api import expect

    _, url = server
    page.goto(url + "/game")
    page.select_option("#beat-model", "rnn")
    page.select_option("#beat-len", "10")
    page.click("#beat-start")
    page.select_option("#beat-conf", "0.01")  # "no idea" reaches 1% in easy mode too
    clicks = 0
    while not page.locator("#beat-summary").is_visible():
        nxt = page.locator("#beat-next")
        if nxt.is_visible():
            nxt.click()
        choice = page.locator("#beat-choices button.choice").first
        choice.wait_for(state="visible", timeout=5000)
        assert page.locator("#beat-choices button.choice").count() == 4
        before = page.locator("#beat-score").text_content()
        page.keyboard.press("1")  # keyboard: 1-4 pick a choice
        clicks += 1
        expect(page.locator("#beat-score")).not_to_have_text(before or "")
        if clicks == 3:
            page.screenshot(path=str(ART / "easy-playing.png"), full_page=True)
            # the RNN is as sure as its own real probability: the number on its top-5 bar
            rnn_said = page.locator("#r-rnn").text_content()
            pick = rnn_said.split(" ")[0]
            for row in page.locator("#r-top .barrow").all():
                if row.locator(".w").text_content() == pick:
                    pct = float(row.locator(".p").text_content().rstrip("%"))
                    assert f"it was {pct:.0f}% sure" in rnn_said or pct < 10
            assert "1.0% sure" in page.locator("#r-you").text_content()
        if page.locator("#beat-next").is_visible():
            page.screenshot(path=str(ART / "easy-sentence-done.png"), full_page=True)
            if page.locator("#beat-summary").is_visible():
                break
        assert clicks < 200
    # the held-out text has 2 sentences of 7 tokens; a round of 10 repeats them: 10 × 6 guesses
    assert clicks == 60
    expect(page.locator("#s-text")).to_contain_text("bits/word, RNN:")
    # the round summary keeps every sentence with its marks, and the yardstick
    expect(page.locator("#s-sentences li")).to_have_count(10)
    expect(page.locator("#s-sentences li").first.locator(".marks")).to_have_count(6)
    expect(page.locator("#s-yard")).to_contain_text("0.6–1.3 bits per character")
    rows = page.locator("#hs-table tr:not(.hs-mode)")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("/60")
    expect(page.locator("#hs-table tr.hs-mode")).to_have_text("Easy mode")
    page.screenshot(path=str(ART / "easy-summary.png"), full_page=True)
    page.reload()  # high scores live in this browser's localStorage
    expect(page.locator("#hs-table tr:not(.hs-mode)").first).to_contain_text("Vanilla RNN")


def test_memory_challenge_and_hidden_state(server, page):
    from playwright.sync_api import expect

    _, url = server
    page.goto(url + "/game#memory")
    levels = page.locator("#mem-levels li")
    expect(levels).to_have_count(5)
    for i in range(5):
        levels.nth(i).locator("button.choice").first.click()
        expect(levels.nth(i).locator(".mem-out .barrow")).to_have_count(2)  # rnn, gru
    # level 2's modifiers are outside the tiny vocabulary: each model names the words it misses
    line = levels.nth(1).locator(".unk-line[data-model='gru'] .unk")
    expect(line.first).to_have_attribute("title", "not in this model's vocabulary: read as <unk>")
    assert line.count() >= 1
    expect(page.locator("#mem-score")).to_contain_text("/5")
    expect(page.locator("#mem-curve polyline")).to_have_count(2)
    page.screenshot(path=str(ART / "memory.png"), full_page=True)

    page.click("#tab-hidden")
    page.click("#hid-start")
    for i in range(10):
        # wait for fact i+1 itself: a click on "next" while the previous request is still
        # in flight is ignored by the page, so racing ahead would skip a step
        expect(page.locator("#hid-pos")).to_have_text(f"Fact {i + 1} of 10")
        page.locator("#hid-slots button.slot").first.click()
        page.click("#hid-next")
    expect(page.locator("#hid-q")).to_be_visible()
    page.fill("#hid-answer", "3")
    page.screenshot(path=str(ART / "hidden-question.png"), full_page=True)
    page.click("#hid-q button[type=submit]")
    expect(page.locator("#hid-result")).to_contain_text("All facts:")
    expect(page.locator("#hid-newest")).to_contain_text("always stores the newest fact")
    expect(page.locator("#hid-tally")).to_contain_text("of 1 right")
    page.screenshot(path=str(ART / "hidden-result.png"), full_page=True)


def test_phone_width(server, chromium):
    from playwright.sync_api import expect

    _, url = server
    ctx = chromium.new_context(viewport={"width": 390, "height": 800})
    pg = ctx.new_page()
    pg.goto(url + "/game")
    pg.click("#beat-start")
    expect(pg.locator("#beat-choices button.choice")).to_have_count(4)
    width = pg.evaluate("document.documentElement.scrollWidth")
    pg.screenshot(path=str(ART / "phone.png"), full_page=True)
    ctx.close()
    assert width <= 390
