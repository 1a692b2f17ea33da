"""The explorer's memory page gives the same gradient curves as the task's own code."""

import pytest
import torch

from rnnlab.tasks.memory.curves import grad_norm_curve
from rnnlab.tasks.memory.data import fixed_set, task_spec
from rnnlab.tasks.memory.model import MemoryModel
from rnnlab.tasks.memory.train import sweep


def test_memory_view_curves_page_and_sweep(tmp_path, monkeypatch):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from rnnlab.serve.views.memory import router

    web = FastAPI()
    web.include_router(router)
    client = TestClient(web)
    r = client.get("/api/memory/curves", params={"length": 20, "cells": "rnn,gru,nope"})
    assert r.status_code == 200
    d = r.json()
    assert [c["cell"] for c in d["curves"]] == ["rnn", "gru"]
    assert d["unavailable"][0]["cell"] == "nope"
    # the same numbers as the CLI's curve, reordered by distance from the loss
    torch.manual_seed(0)
    model = MemoryModel(task_spec("adding"), "rnn", 64)
    x, y = fixed_set("adding", 20, 16, 0, 2)
    assert d["curves"][0]["grad_norm"] == pytest.approx(grad_norm_curve(model, x, y)[::-1])
    assert client.get("/api/memory/curves", params={"length": 5000}).status_code == 422
    assert client.get("/api/memory/curves", params={"task": "sorting"}).status_code == 422
    page = client.get("/memory")
    assert page.status_code == 200 and 'id="mem-len"' in page.text
    monkeypatch.setenv("RNNLAB_MEMORY_SWEEP", str(tmp_path / "sweep.json"))
    assert client.get("/api/memory/sweep").json()["available"] is False
    sweep("parity", [3], ["rnn"], out=tmp_path, steps=5, hidden=4, n_val=8, n_test=8)
    runs = client.get("/api/memory/sweep").json()["runs"]
    assert runs[0]["cell"] == "rnn" and len(runs[0]["grad_trained"]) == 3
