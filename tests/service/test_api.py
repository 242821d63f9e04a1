"""The job service's REST API against a real ``evokit serve`` (uvicorn) on a loopback port:
jobs run as real ``evokit run`` processes training real Keras networks."""
from __future__ import annotations

import http.client
import io
import json
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi")
sys.path.insert(0, str(Path(__file__).parent))
from server import Server, tiny_config  # noqa: E402


def multipart(fields: dict, files: dict | None = None) -> tuple[bytes, dict]:
    """A multipart/form-data body (``files``: field -> (file name, bytes))."""
    boundary = "evokit-test-boundary"
    parts = []
    for key, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
    for key, (name, data) in (files or {}).items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"; filename="{name}"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def post_form(server: Server, fields: dict, files: dict | None = None, headers: dict | None = None,
              **kwargs) -> tuple[int, object, dict]:
    body, form = multipart(fields, files)
    return server.request("POST", "/api/jobs", body, {**form, **(headers or {})}, **kwargs)


def events(server: Server, job_id: str, timeout: float = 120.0, headers: dict | None = None) -> list[tuple[str, dict]]:
    """Every server-sent event of a job's stream until its ``end`` event."""
    req = urllib.request.Request(f"{server.url}/api/jobs/{job_id}/events", headers=headers or {})
    if server.token:
        req.add_header("Authorization", f"Bearer {server.token}")
    out, kind = [], None
    with urllib.request.urlopen(req, timeout=timeout) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for raw in stream:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                out.append((kind, json.loads(line[6:])))
                if kind == "end":
                    return out
    return out


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("service") / "root"
    with Server(root, args=["--jobs", "2", "--max-upload-mb", "0.05"]) as running:
        yield running


def job_dirs(server: Server) -> set[str]:
    return {p.name for p in (server.root / "jobs").iterdir()}


def test_health_options_and_openapi(server):
    status, health, _ = server.request("GET", "/api/health")
    assert status == 200 and health["status"] == "ok"
    status, options, _ = server.request("GET", "/api/options")
    assert "digits" in options["datasets"] and "deepga" in options["encodings"] and "nsga2" in options["searches"]
    assert options["token_required"] is False and options["max_upload_bytes"] == int(0.05 * 2**20)
    status, spec, _ = server.request("GET", "/api/openapi.json")
    assert status == 200
    assert {"/api/jobs", "/api/jobs/{job_id}", "/api/jobs/{job_id}/events", "/api/jobs/{job_id}/stop",
            "/api/jobs/{job_id}/resume", "/api/jobs/{job_id}/models/best.keras"} <= set(spec["paths"])
    status, page, headers = server.request("GET", "/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    status, plotly, _ = server.request("GET", "/static/plotly.min.js")
    assert status == 200 and len(plotly) > 1_000_000  # served from the installed plotly package


def test_jobs_run_stream_and_give_their_models(server):
    status, job, _ = post_form(server, {"config": tiny_config(2), "name": "tiny"})
    assert status == 201, job
    status, upload, _ = post_form(server, {"config": CSV_CONFIG}, {"data": ("../../evil name.csv", csv_upload())})
    assert status == 201, upload  # runs beside the first job (two at a time)
    assert upload["dataset"].startswith("upload") and (server.root / "jobs" / upload["id"] / "data.csv").is_file()
    assert not (server.root.parent / "evil name.csv").exists()
    assert job["name"] == "tiny" and job["state"] in ("queued", "running") and len(job["id"]) == 12
    stream = events(server, job["id"])
    kinds = [k for k, _ in stream]
    assert kinds[-1] == "end" and stream[-1][1]["state"] == "finished", stream[-1]
    candidates = [d for k, d in stream if k == "candidate"]
    generations = [d for k, d in stream if k == "generation"]
    assert [g["gen"] for g in generations] == [0, 1, 2]
    assert [c["index"] for c in candidates] == list(range(len(candidates))) and len(candidates) >= 4
    assert all("genotype" not in c and "netspec" not in c for c in candidates)
    assert all(0 <= c["val_accuracy"] <= 1 and c["params"] > 0 for c in candidates if c["status"] == "ok")
    states = [d["state"] for k, d in stream if k == "state"]
    assert states[-1] == "finished" and "running" in states

    again = events(server, job["id"], headers={"Last-Event-ID": str(len(candidates) - 2)})  # a client reconnects
    assert [d["index"] for k, d in again if k == "candidate"] == [len(candidates) - 1]
    status, done, _ = server.request("GET", f"/api/jobs/{job['id']}")
    assert done["state"] == "finished" and done["generation"] == 2 and done["evaluations"] == len(candidates)
    best = max(c["val_accuracy"] for c in candidates if c["status"] == "ok")
    assert done["best"]["val_accuracy"] == pytest.approx(best) and 0 <= done["test_scores"]["test_accuracy"] <= 1
    listed = server.request("GET", "/api/jobs")[1]["jobs"]
    assert job["id"] in [j["id"] for j in listed]

    status, front, _ = server.request("GET", f"/api/jobs/{job['id']}/pareto")
    assert front["objectives"] == ["val_accuracy"] and front["front"][0]["val_accuracy"] == pytest.approx(best)
    status, model, headers = server.request("GET", f"/api/jobs/{job['id']}/models/best.keras")
    assert status == 200 and model[:2] == b"PK"  # a .keras file is a zip
    import keras

    path = server.root.parent / "best.keras"
    path.write_bytes(model)
    assert keras.models.load_model(path).predict(np.zeros((2, 8, 8, 1)), verbose=0).shape == (2, 10)
    status, report, headers = server.request("GET", f"/api/jobs/{job['id']}/report")
    assert status == 200 and b"<html" in report[:500].lower()
    status, config, _ = server.request("GET", f"/api/jobs/{job['id']}/config")
    assert config["algorithm"]["generations"] == 2 and config["data"] == {"name": "digits", "n_train": 200,
                                                                          "n_val": 100}
    assert server.wait_for(upload["id"], ("finished",))["evaluations"] == 2
    status, archive, _ = server.request("GET", f"/api/jobs/{upload['id']}/models/pareto.zip", timeout=120)
    assert status == 200, archive
    with zipfile.ZipFile(io.BytesIO(archive)) as models:  # the front's models, retrained by evokit export
        names = models.namelist()
        assert any(name.endswith(".keras") for name in names), names
    assert server.request("DELETE", f"/api/jobs/{upload['id']}")[0] == 204


def test_stop_queue_resume_and_delete(server):
    long = tiny_config(30)
    first = post_form(server, {"config": long})[1]
    second = post_form(server, {"config": long})[1]
    third = post_form(server, {"config": long})[1]
    assert server.request("GET", f"/api/jobs/{third['id']}")[1]["state"] == "queued"  # two run at a time
    status, stopped, _ = server.request("POST", f"/api/jobs/{third['id']}/stop")
    assert status == 202 and stopped["state"] == "stopped"  # a queued job stops at once
    assert server.request("DELETE", f"/api/jobs/{second['id']}")[0] == 204
    assert second["id"] not in job_dirs(server) and server.request("GET", f"/api/jobs/{second['id']}")[0] == 404

    deadline = time.monotonic() + 90
    while (server.request("GET", f"/api/jobs/{first['id']}")[1]["generation"] or 0) < 1:
        assert time.monotonic() < deadline
        time.sleep(0.3)
    status, stopping, _ = server.request("POST", f"/api/jobs/{first['id']}/stop")
    assert status == 202 and stopping["state"] in ("stopping", "stopped")
    stopped = server.wait_for(first["id"], ("stopped",))
    assert stopped["generation"] < 30 and stopped["error"] is None
    assert server.request("POST", f"/api/jobs/{first['id']}/stop")[0] == 202  # stopping twice is harmless
    status, queued, _ = server.request("POST", f"/api/jobs/{first['id']}/resume")
    assert status == 202 and queued["state"] in ("queued", "running")
    assert server.request("POST", f"/api/jobs/{first['id']}/resume")[0] == 409  # not stopped now
    assert server.wait_for(first["id"], ("running",), timeout=30)["generation"] == stopped["generation"]
    assert server.request("DELETE", f"/api/jobs/{first['id']}")[0] == 204  # a running job is ended and removed
    assert first["id"] not in job_dirs(server)
    assert server.request("DELETE", f"/api/jobs/{third['id']}")[0] == 204


def zeros_npz() -> bytes:
    """A small NPZ whose arrays unpack to ~13 MB: an upload's unpacked size is capped."""
    out = io.BytesIO()
    np.savez_compressed(out, X=np.zeros((200_000, 8)), y=np.zeros(200_000))
    return out.getvalue()


BAD = [
    ({"dataset": "no_such_set"}, None, 422, "dataset='no_such_set' is invalid"),
    ({"config": "[encoding\ntype = 1"}, None, 422, "not valid TOML"),
    ({"config": '[encoding]\ntype = "os:system"'}, None, 422, "encoding.type='os:system'"),
    ({"config": '[[objectives]]\ntype = "subprocess:run"'}, None, 422, "objectives[0].type"),
    ({"config": 'run_dir = "/etc"'}, None, 422, "config.run_dir"),
    ({"config": '[data]\npath = "/etc/passwd"'}, None, 422, "config.data.path"),
    ({"config": '[evaluator]\ntype = "dask"\naddress = "tcp://10.0.0.1:8786"'}, None, 422, "config.evaluator"),
    ({"encoding": "rm -rf"}, None, 422, "encoding='rm -rf' is invalid"),
    ({"generations": "many"}, None, 422, "generations='many' is invalid"),
    ({}, {"data": ("big.csv", b"1,2,3\n" * 20_000)}, 413, "too large"),
    ({}, {"data": ("nan.csv", b"a,b,label\n" + b"1,2,0\nnan,3,1\n4,5,0\n6,7,1\n" * 10)}, 422, "NaN"),
    ({}, {"data": ("model.py", b"import os\n")}, 422, "expected a .csv or .npz file"),
    ({}, {"data": ("x.npz", b"not a zip")}, 422, "not a readable NPZ file"),
    ({}, {"data": ("zeros.npz", zeros_npz())}, 413, "unpack to"),
    ({}, {"config": ("c.toml", b"seed = 1\n")}, 422, "send config as text"),
    ({"encoding": "textcnn"}, None, 422, "data"),
    ({"config": '[[objectives]]\ntype = "r2"'}, None, 422, "ValidationR2 needs regression data"),
    ({"config": '[evaluator]\ntype = "processes"\nworkers = 512'}, None, 422, "config.evaluator.workers=512"),
]


@pytest.mark.parametrize("fields, files, status, message", BAD, ids=[b[3][:24] for b in BAD])
def test_bad_input_is_refused_naming_the_field_and_leaves_nothing(server, fields, files, status, message):
    before, jobs = job_dirs(server), len(server.request("GET", "/api/jobs")[1]["jobs"])
    got, body, _ = post_form(server, fields, files)
    assert got == status, body
    assert message.lower() in body["detail"].lower(), body
    assert job_dirs(server) == before and len(server.request("GET", "/api/jobs")[1]["jobs"]) == jobs


def csv_upload() -> bytes:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 4))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    return ("a,b,c,d,label\n" + "".join(f"{','.join(f'{v:.4f}' for v in row)},{t}\n"
                                        for row, t in zip(x, y))).encode()


CSV_CONFIG = ('[encoding]\ntype = "binary"\n[algorithm]\ntype = "random"\nbatch = 2\ngenerations = 0\n'
              '[[objectives]]\ntype = "accuracy"\nepochs = 1\n')


def test_unknown_job_ids_are_404(server):
    for bad in ("000000000000", "..%2F..%2Fetc", "x" * 300):
        assert server.request("GET", f"/api/jobs/{bad}")[0] == 404
        assert server.request("GET", f"/api/jobs/{bad}/models/best.keras")[0] == 404


def test_a_token_guards_every_api_call(tmp_path):
    token = "t0ken-for-the-tests-0123456789"
    with Server(tmp_path / "root", token=token) as server:
        assert server.request("GET", "/api/health", token=None)[0] == 200
        assert server.request("GET", "/api/options", token=None)[1]["token_required"] is True
        for method, path in (("GET", "/api/jobs"), ("POST", "/api/jobs"), ("GET", "/api/jobs/000000000000/events"),
                             ("POST", "/api/jobs/000000000000/stop"), ("DELETE", "/api/jobs/000000000000")):
            status, body, headers = server.request(method, path, token=None)
            assert status == 401 and "token" in body["detail"], (path, body)
            assert server.request(method, path, token="wrong-token-wrong-token")[0] == 401
        assert server.request("GET", "/api/jobs")[0] == 200
        # ?token= is for what a browser opens without headers (event streams, downloads), not the rest
        assert server.request("GET", f"/api/jobs/000000000000/events?token={token}", token=None)[0] == 404
        assert server.request("GET", f"/api/jobs/000000000000/report?token={token}", token=None)[0] == 404
        assert server.request("GET", f"/api/jobs?token={token}", token=None)[0] == 401
        status, body, _ = post_form(server, {"dataset": "nope"}, token=None)
        assert status == 401 and not any((tmp_path / "root" / "jobs").iterdir())


def test_serve_refuses_other_hosts_without_a_token(capsys, monkeypatch):
    from evokit.cli import main

    monkeypatch.delenv("EVOKIT_TOKEN", raising=False)
    assert main(["serve", "--host", "0.0.0.0", "--root", "unused"]) == 2
    assert "token is required" in capsys.readouterr().err
    assert main(["serve", "--token", "short"]) == 2
    assert "at least 16 characters" in capsys.readouterr().err


def test_a_chunked_body_over_the_limit_is_413_and_leaves_nothing(server):
    before = job_dirs(server)
    body, headers = multipart({"name": "big"}, {"data": ("big.csv", b"1,2,3\n" * 20_000)})
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.putrequest("POST", "/api/jobs")
    for key, value in headers.items():
        connection.putheader(key, value)
    connection.putheader("Transfer-Encoding", "chunked")  # no Content-Length: the limit counts the stream
    connection.endheaders()
    for start in range(0, len(body), 8192):
        chunk = body[start:start + 8192]
        try:
            connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:  # the server may answer and close before the body is all sent
            break
    else:
        connection.send(b"0\r\n\r\n")
    response = connection.getresponse()
    assert response.status == 413 and "too large" in json.loads(response.read())["detail"]
    assert job_dirs(server) == before


def test_other_sites_pages_are_refused(server):
    status, body, _ = server.request("GET", "/api/jobs", headers={"Host": "attacker.example"})
    assert status == 403 and "loopback only" in body["detail"]  # DNS rebinding
    status, body, _ = post_form(server, {"dataset": "nope"}, headers={"Origin": "http://evil.example"})
    assert status == 403 and "another site" in body["detail"]  # a cross-site form post
    status, body, _ = post_form(server, {"dataset": "nope"}, headers={"Origin": server.url})
    assert status == 422  # the page's own origin goes through (and this dataset is then refused)


def test_generation_rows_with_empty_cells_stream_as_null(tmp_path):
    from evokit.service.app import _event
    from evokit.service.progress import RunProgress

    (tmp_path / "generations.csv").write_text("gen,evaluated,elapsed_s,hypervolume\n0,4,1.5,\n")
    rows = RunProgress(tmp_path).poll()[1]
    assert rows == [{"gen": 0, "evaluated": 4, "elapsed_s": 1.5, "hypervolume": None}]
    assert '"hypervolume": null' in _event("generation", rows[0])
