"""The playground's API on a live loopback server: start, stream (server-sent events), pause,
cancel when the stream's client goes away, bad knobs (422 naming the range), and the global cap
under 20 clients asking at once."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from rnnlab.tasks.playground.config import Limits, RunKnobs
from rnnlab.tasks.playground.run import Run
from rnnlab.tasks.playground.worker import Manager

TINY = {
    "data": {"length": 8, "batch": 4},
    "lanes": [{"cell": "rnn", "hidden": 4}, {"cell": "gru", "hidden": 4}],
}


@pytest.fixture(scope="module")
def app():
    from rnnlab.serve.app import create_app
    from rnnlab.serve.registry import ModelRegistry

    app = create_app(ModelRegistry())
    app.state.playground = Manager(Limits(max_runs=2, idle_seconds=30, interval=0.1))
    yield app
    app.state.playground.close()


@pytest.fixture(scope="module")
def url(app, serve):
    return serve(app)


def _events(resp, n: int) -> tuple[list[dict], float]:
    """The first ``n`` events and the seconds from the first to the last."""
    out, t0 = [], 0.0
    for line in resp.iter_lines():
        if line.startswith("data: "):
            out.append(json.loads(line[6:]))
            t0 = t0 or time.monotonic()
            if len(out) == n:
                break
    return out, time.monotonic() - t0


def _until(cond, timeout=10.0):
    t0 = time.monotonic()
    while not cond():
        assert time.monotonic() - t0 < timeout, "timed out"
        time.sleep(0.05)


def test_start_stream_pause_and_cancel_when_the_client_goes(app, url):
    mgr = app.state.playground
    with httpx.Client(base_url=url, timeout=10) as c:
        r = c.post("/api/playground/run", json=TINY)
        # "starting" until its thread has built the model, then "paused" (a race to win)
        assert r.status_code == 200 and r.json()["state"] in ("starting", "paused")
        sid = c.cookies["rnnlab_playground"]
        assert c.post("/api/playground/run/play").json()["state"] == "playing"
        with c.stream("GET", "/api/playground/stream") as s:
            assert s.headers["content-type"].startswith("text/event-stream")
            evs, seconds = _events(s, 6)
        rate = (len(evs) - 1) / seconds
        assert rate >= 2, f"{rate:.1f} updates/s"
        steps = [e["step"] for e in evs]
        assert steps == sorted(steps) and steps[-1] > steps[0]
        # the stream carries every training step once, in order, per lane
        rows = [r for e in evs for r in e["curves"][0]["train"]]
        assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
        assert evs[-1]["lanes"][1]["label"] == "GRU" and evs[0]["restart"]
        # what was streamed is what the engine computes for the same knobs and seed (Run is
        # checked against plain PyTorch in tests/tasks/playground/test_playground_run.py)
        ref = Run(RunKnobs.model_validate(TINY))
        for _ in range(evs[-1]["step"]):
            ref.step()
        want = ref.snapshot()
        for got, mine in zip(evs[-1]["lanes"], want["lanes"], strict=True):
            assert got["grad_norm"] == pytest.approx(mine["grad_norm"], rel=1e-9)
            assert got["hidden"] == mine["hidden"] and got["answer"] == mine["answer"]
            assert got["val_score"] == pytest.approx(mine["val_score"], rel=1e-9)
        streamed = [r for e in evs for r in e["curves"][0]["train"]][: evs[-1]["step"]]
        assert streamed == ref.lanes[0].train  # JSON round-trips a float exactly
        # the client went away: the run is cancelled
        _until(lambda: mgr.jobs[sid].state == "cancelled")
        assert mgr.jobs[sid].reason == "the page went away"
        with pytest.raises(Exception, match="has cancelled"):
            mgr.jobs[sid].command("play")
        # a new run for the same session replaces it; pause holds it still
        assert c.post("/api/playground/run", json=TINY).status_code == 200
        assert c.post("/api/playground/run/play").status_code == 200
        _until(lambda: (c.get("/api/playground/run").json()["snapshot"] or {}).get("step", 0) > 3)
        assert c.post("/api/playground/run/pause").json()["state"] == "paused"
        time.sleep(0.4)
        a = c.get("/api/playground/run").json()
        time.sleep(0.4)
        b = c.get("/api/playground/run").json()
        assert a["snapshot"]["step"] == b["snapshot"]["step"] == len(b["curves"][0]["train"])
        assert c.delete("/api/playground/run").json()["state"] == "cancelled"
        assert "playground" in c.get("/openapi.json").text


def test_bad_knobs_are_refused_with_the_allowed_range(url):
    with httpx.Client(base_url=url, timeout=10) as c:

        def detail(body):
            r = c.post("/api/playground/run", json=body)
            assert r.status_code == 422, r.text
            return r.json()["detail"]

        assert "hidden = 1000 is out of range: allowed 1 to 128" in detail(
            {"lanes": [{"hidden": 1000}]}
        )
        assert "length = 1 is out of range: allowed 2 to 200" in detail(
            {"data": {"length": 1}, "lanes": [{}]}
        )
        assert "'rnn', 'gru', 'lstm', 'mingru' or 'minlstm'" in detail({"lanes": [{"cell": "tcn"}]})
        assert "too big to train live" in detail(
            {"data": {"batch": 128, "length": 200}, "lanes": [{"hidden": 128}]}
        )
        assert "at most 2 items" in detail({"lanes": [{}, {}, {}]})
        assert "Extra inputs" in detail({"lanes": [{"hiden": 8}]})
        r = c.post("/api/playground/run/play")  # no cookie: no run
        assert r.status_code == 422 and "press Play" in r.json()["detail"]
        assert c.post("/api/playground/run/jump").status_code == 422


def test_the_cap_holds_under_twenty_clients_at_once(app, url):
    mgr = app.state.playground

    def ask(_):
        with httpx.Client(base_url=url, timeout=10) as c:
            t0 = time.monotonic()
            r = c.post("/api/playground/run", json=TINY)
            return (
                r.status_code,
                r.json()["detail"] if r.status_code != 200 else "",
                time.monotonic() - t0,
                c.cookies.get("rnnlab_playground"),
            )

    _until(lambda: mgr.active() == 0)
    with ThreadPoolExecutor(20) as pool:
        got = list(pool.map(ask, range(20)))
    codes = sorted(g[0] for g in got)
    assert codes == [200] * 2 + [503] * 18
    assert all("already training 2 runs, its limit" in g[1] for g in got if g[0] == 503)
    assert max(g[2] for g in got) < 8  # answered, not queued
    assert mgr.active() == 2
    for code, _, _, sid in got:
        if code == 200:
            mgr.stop(sid)
    _until(lambda: mgr.active() == 0)
