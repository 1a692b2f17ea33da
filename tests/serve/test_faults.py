"""A corrupt model file takes only that model out: it is listed as unavailable with a reason
that names no server path, its requests get 503, and the other models keep serving."""

import shutil

from fastapi.testclient import TestClient

from rnnlab.serve.app import create_app
from rnnlab.serve.registry import ModelRegistry


def test_a_corrupt_model_is_listed_unavailable_and_the_others_serve(lm_runs, tmp_path):
    broken = tmp_path / "secret-place" / "broken"
    shutil.copytree(lm_runs / "rnn", broken)
    weights = broken / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-64:] = b"\0" * 64  # damage the tensors, not the header: the checksum catches it
    weights.write_bytes(bytes(data))
    reg = ModelRegistry()
    reg.add_run("good", lm_runs / "rnn")
    reg.add_run("broken", broken)
    failed = reg.load_all()
    assert list(failed) == ["broken"] and reg.names() == ["good"]
    with TestClient(create_app(reg)) as c:
        m = c.get("/api/models").json()
        assert [x["name"] for x in m["models"]] == ["good"]
        (u,) = m["unavailable"]
        assert u["name"] == "broken" and u["reason"]
        assert "secret-place" not in u["reason"] and str(tmp_path) not in u["reason"]
        r = c.post("/api/trace", json={"model": "broken", "text": "the cat"})
        assert r.status_code == 503 and "unavailable" in r.json()["detail"]
        assert "secret-place" not in r.text
        assert c.post("/api/trace", json={"model": "good", "text": "the cat"}).status_code == 200
        assert c.get("/api/models/good").status_code == 200


def test_a_missing_model_folder_is_unavailable_not_fatal(lm_runs, tmp_path):
    reg = ModelRegistry()
    reg.add_run("good", lm_runs / "rnn")
    reg.add_run("gone", tmp_path / "nowhere")
    assert list(reg.load_all()) == ["gone"]
    with TestClient(create_app(reg)) as c:
        assert c.get("/api/models").json()["unavailable"][0]["name"] == "gone"
        assert c.post("/api/predict", json={"model": "gone", "text": "a"}).status_code == 503
