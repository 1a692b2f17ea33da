"""The /inside page's JSON API on the tiny trained models of conftest.py: each endpoint
answers what rnnlab.inspect computes (itself checked in tests/tasks/inspect), and bad input
is a 422 naming the problem."""

from __future__ import annotations

import pytest
import torch

from rnnlab import inspect as ri
from rnnlab.serve.views.inside import HELDOUT_TOKENS
from rnnlab.tasks.inspect.text import read_tokens

TEXT = "The dog sat on the mat because it was tired ."


def test_cells_are_the_table_of_the_heldout_text(api_client, lm_registry):
    r = api_client.post("/api/inside/cells", json={"model": "lstm", "k": 3})
    assert r.status_code == 200, r.text
    d = r.json()
    lm = lm_registry.get("lstm")
    table = ri.find_cells(lm.model, lm.heldout_text(), max_tokens=HELDOUT_TOKENS)
    assert d["n_tokens"] == len(table.tokens)
    for det, rows in d["top"].items():
        ref = table.top(det, 3)
        assert [(x["state"], x["unit"]) for x in rows] == [(x.state, x.unit) for x in ref]
        assert [x["r"] for x in rows] == pytest.approx([x.r for x in ref], abs=1e-4)
    assert {g["gate"] for g in d["saturation"]} == {"i", "f", "o"}
    assert len(d["passage"]["tokens"]) == len(d["passage"]["detectors"]["position in sentence"])


def test_select_connectivity_and_intervene(api_client, lm_registry):
    lm = lm_registry.get("deep")
    body = {"model": "deep", "text": TEXT, "start": 2, "end": 4, "threshold": 0.0, "layer": 1}
    d = api_client.post("/api/inside/select", json=body).json()
    tokens, ids = read_tokens(lm.model, TEXT)  # the sentence start token first
    assert d["tokens"] == tokens
    with torch.no_grad():
        tr = lm.model.rnn.trace(lm.model.embed(torch.tensor([ids])))
    assert d["units"] == ri.units_on(tr.hidden[1][0][0].numpy(), 2, 4, 0.0)
    assert d["seconds"] < 1.0
    for m in d["matches"]:
        assert m["end"] >= m["start"] and m["tokens"][m["offset"]]

    c = api_client.post("/api/inside/connectivity", json={"model": "deep", "text": TEXT, "t": 6})
    ref = ri.connectivity(lm.model, TEXT, 6)
    assert c.status_code == 200 and c.json()["grad"] == pytest.approx(ref.grad, rel=1e-5)

    body = {"model": "rnn", "text": TEXT, "unit": 3, "from_step": 2, "value": 1.0, "length": 5}
    iv = api_client.post("/api/inside/intervene", json=body).json()
    ref = ri.intervene(lm_registry.get("rnn").model, TEXT, 0, 3, 2, 1.0, length=5)
    assert iv["clamped"]["top"][0][0] == ref.clamped.top[0][0]
    assert iv["clamped"]["continuation"] == ref.clamped.continuation
    assert iv["base"]["continuation"] == ref.base.continuation


@pytest.mark.parametrize(
    "path,body,msg",
    [
        ("/api/inside/activations", {"model": "rnn", "unit": 999}, "unit must be 0..23"),
        ("/api/inside/activations", {"model": "deep", "unit": 0, "state": "c"}, "no cell state"),
        ("/api/inside/select", {"model": "rnn", "text": TEXT, "start": 3, "end": 99}, "range"),
        ("/api/inside/connectivity", {"model": "bi", "text": TEXT}, "next-word model"),
        (
            "/api/inside/intervene",
            {"model": "rnn", "text": "hi", "unit": 0, "from_step": 9},
            "from_step",
        ),
    ],
)
def test_bad_input_is_a_readable_422(api_client, path, body, msg):
    r = api_client.post(path, json=body)
    assert r.status_code == 422 and msg in r.json()["detail"], r.text
    assert "/" not in r.json()["detail"].replace("1/", "")  # no server paths
