"""HTTP ingest: the status codes the agent relies on, the read API, the OpenAPI document, and a
real `secscan collector serve` over TLS on loopback fed by the agent's own push code."""

from __future__ import annotations

import copy
import json
import os
import shutil
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from secscan.collector.api import create_app
from secscan.model.signing import sign
from secscan.synth.samples import fleet, host_report, scan_report
from secscan.testing import _free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def client(store):
    with TestClient(create_app(store, max_bytes=256 * 1024)) as c:
        yield c


def _post(client, doc, token, **kw):
    body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    return client.post("/api/v1/reports", content=body, headers=headers, **kw)


def test_accept_then_already_had(client, store, token, rng):
    doc = host_report(rng, fleet(1, ["xa-a"])[0], token=token)
    first = _post(client, doc, token)
    assert first.status_code == 200 and first.json() == {"status": "accepted", "id": doc["report_id"], "kind": "host"}
    again = _post(client, doc, token)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert store.counts()["reports"] == 1


def test_refusals(client, store, token, rng):
    pc = fleet(1, ["xa-a"])[0]
    doc = host_report(rng, pc, token=token)
    _, other_unit = store.create_token("xa-b")
    tampered = copy.deepcopy(doc)
    tampered["host"]["hostname"] = "X"
    invalid = {k: v for k, v in host_report(rng, pc).items()}
    invalid["collected_at"] = "2026-11-20T08:00:00"  # no time zone
    cases = [
        (_post(client, doc, None), 401, "Authorization: Bearer"),
        (_post(client, doc, "sst_nosuchtoken1.abcdefghijklmnopqrstuvwxyz0123456789AB"), 401, "unknown token"),
        (_post(client, tampered, token), 401, "signature: does not match"),
        (_post(client, host_report(rng, pc), token), 401, "not signed"),
        (_post(client, doc, other_unit), 403, "belongs to unit xa-a, the pushing token to xa-b"),
        (_post(client, b"{not json", token), 422, "invalid JSON"),
        (_post(client, sign(invalid, token), token), 422, "collected_at: Value error, timestamp must carry a time"),
        (_post(client, {"schema": "secscan.host-report/9"}, token), 422, "not supported"),
        (_post(client, b"x" * (256 * 1024 + 1), token), 413, "over the limit"),
    ]
    for response, status, text in cases:
        assert response.status_code == status, (status, response.text)
        assert text in response.json()["detail"], response.json()
        assert 400 <= status < 500 and status not in (408, 429)  # the agent treats these as final
    assert cases[0][0].headers["www-authenticate"] == "Bearer"
    assert store.counts()["reports"] == 0
    key_id = token[4:].split(".")[0]
    store.revoke_token(key_id)
    revoked = _post(client, doc, token)
    assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]


def test_chunked_oversize_body_is_413(client, token):
    def chunks():  # no Content-Length: the limit is enforced while reading
        for _ in range(40):
            yield b" " * 8192

    r = client.post("/api/v1/reports", content=chunks(), headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 413


def test_scan_report_over_http(client, token, rng):
    r = _post(client, scan_report(rng, unit="xa-a"), token)
    assert r.status_code == 401 and "not signed" in r.json()["detail"]  # scans travel by file, signed pushes only


def test_units_and_summary(client, store, token, rng):
    assert _post(client, host_report(rng, fleet(1, ["xa-a"])[0], token=token), token).status_code == 200
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/units").status_code == 401
    assert [u["id"] for u in client.get("/api/v1/units", headers=auth).json()] == ["xa-a"]
    summary = client.get("/api/v1/units/xa-a/summary", headers=auth).json()
    assert summary["hosts"] == 1 and summary["reports"] == 1 and summary["unit"]["name"] == "UBND xã A"
    assert client.get("/api/v1/units/xa-b/summary", headers=auth).status_code == 403
    district = {"Authorization": f"Bearer {store.create_token('huyen-x')[1]}"}
    assert [u["id"] for u in client.get("/api/v1/units", headers=district).json()] == ["huyen-x", "xa-a", "xa-b"]
    assert client.get("/api/v1/units/xa-a/summary", headers=district).status_code == 200
    assert client.get("/healthz").json()["status"] == "ok"


def test_healthz_answers_the_current_schema_version_as_the_docs_show(client):
    from secscan import __version__
    from secscan.collector import migrations

    assert client.get("/healthz").json() == {"status": "ok", "version": __version__,
                                             "schema_version": migrations.LATEST}
    row = next(line for line in (ROOT / "docs" / "collector.md").read_text().splitlines()
               if line.startswith("| `GET /healthz` |"))
    shown = json.loads(row.split("`")[3])
    assert set(shown) == {"status", "version", "schema_version"} and shown["schema_version"] == migrations.LATEST


def test_openapi_document(client):
    doc = client.get("/openapi.json").json()
    assert doc["info"]["title"] == "secscan collector"
    post = doc["paths"]["/api/v1/reports"]["post"]
    assert {"200", "401", "403", "409", "413", "422"} <= set(post["responses"])
    assert post["requestBody"]["required"] is True
    assert "application/json" in post["requestBody"]["content"]
    assert set(doc["paths"]) == {"/healthz", "/api/v1/reports", "/api/v1/units", "/api/v1/units/{unit_id}/summary"}
    summary = doc["paths"]["/api/v1/units/{unit_id}/summary"]["get"]["responses"]["200"]
    assert summary["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/UnitSummary"


@pytest.mark.slow
def test_served_over_tls_to_the_agent_push(store, db_url, token, rng, tmp_path):
    """`secscan collector serve --tls-*` in a subprocess; the agent's push_spool delivers, retries
    are harmless, a refused report moves to spool/rejected."""
    if not shutil.which("openssl"):
        pytest.skip("openssl binary not found (scripts/system-deps.sh installs it)")
    from secscan.agent.delivery import push_spool, write_atomic

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "secscan", "collector", "--db", db_url, "serve", "--port", str(port),
           "--tls-cert", str(cert), "--tls-key", str(key)]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        base = f"https://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz", verify=ssl.create_default_context(cafile=cert)).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail(f"server did not start: {server.stderr.read1().decode() if server.stderr else ''}")
        spool = tmp_path / "spool"
        docs = [host_report(rng, h, token=token) for h in fleet(3, ["xa-a"])]
        bad = copy.deepcopy(docs[2])
        bad["host"]["hostname"] = "TAMPERED"
        bad["report_id"] = "22222222-2222-4222-8222-222222222222"
        for doc in [*docs, bad]:
            write_atomic(spool / f"{doc['report_id']}.json", json.dumps(doc))
        result = push_spool(spool, f"{base}/api/v1/reports", token, str(cert))
        assert result.error is None and len(result.delivered) == 3
        assert [name for name, _ in result.rejected] == [f"{bad['report_id']}.json"]
        assert (spool / "rejected" / f"{bad['report_id']}.json").exists()
        write_atomic(spool / "again.json", json.dumps(docs[0]))  # a retry after a lost answer
        assert push_spool(spool, f"{base}/api/v1/reports", token, str(cert)).delivered == ["again.json"]
        assert store.counts()["reports"] == 3
    finally:
        server.terminate()
        server.wait(10)


def test_agent_and_cli_stay_light():
    """The agent path and `secscan --help` load neither SQLAlchemy nor FastAPI (DESIGN: lazy imports)."""
    heavy = ("sqlalchemy", "fastapi", "uvicorn", "rich", "secscan.policy")
    code = (f"import sys, secscan.cli, secscan.agent.cli, secscan.wiring.collector; "
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
