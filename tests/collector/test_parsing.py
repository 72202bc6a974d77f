"""Pushes parsed in a process beside the server (``serve``): the same answers as parsing in
process, a refusal per push, and a parse process that dies costs one batch a 503, not the server."""

from __future__ import annotations

import json
import os
import signal

import pytest
from fastapi.testclient import TestClient

from secscan.collector.api import create_app
from secscan.collector.intake import Parsed
from secscan.collector.parsing import ParseProcess, ParserGone, parse_all
from secscan.model.signing import new_token
from secscan.synth.samples import fleet, host_report


def _bodies(rng, token) -> list[bytes]:
    good = host_report(rng, fleet(1, ["xa-a"])[0], token=token)
    no_zone = {**host_report(rng, fleet(1, ["xa-a"])[0]), "collected_at": "2026-11-20T08:00:00"}
    return [json.dumps(good).encode(), b"{not json", json.dumps(no_zone).encode(), b'{"schema": "other/1"}']


def _shape(got):
    if isinstance(got, Parsed):
        return ("report", got.kind, got.id, got.digest, got.text, got.filing, got.key_id, got.message)
    return ("refused", *got)


@pytest.fixture
def any_token() -> str:  # parsing needs no store: the signature is checked when storing
    return new_token()[1]


def test_same_answers_as_parsing_here(rng, any_token):
    bodies = _bodies(rng, any_token)
    parser = ParseProcess(max_bytes=1 << 20, decoder=None)
    try:
        there = parser(bodies)
    finally:
        parser.close()
    here = parse_all(bodies, 1 << 20, None)
    assert [_shape(g) for g in there] == [_shape(g) for g in here]
    assert [g[0] for g in map(_shape, there)] == ["report", "refused", "refused", "refused"]
    assert there[2][1] == 422 and "collected_at" in there[2][0]


def test_an_unexpected_error_is_a_500_for_that_push_only(rng, any_token, monkeypatch):
    import secscan.collector.parsing as parsing

    real = parsing.parse

    def flaky(raw: bytes, **kw):
        if raw == b"boom":
            raise ZeroDivisionError("a bug")
        return real(raw, **kw)

    monkeypatch.setattr(parsing, "parse", flaky)
    got = parse_all([b"boom", _bodies(rng, any_token)[0]], 1 << 20, None)
    assert got[0] == ("internal error while parsing: ZeroDivisionError: a bug", 500)
    assert isinstance(got[1], Parsed)


def test_a_killed_parse_process_fails_one_batch_then_is_replaced(rng, any_token):
    bodies = _bodies(rng, any_token)[:1]
    parser = ParseProcess(max_bytes=1 << 20, decoder=None)
    try:
        assert isinstance(parser(bodies)[0], Parsed)
        os.kill(parser._proc.pid, signal.SIGKILL)
        with pytest.raises(ParserGone, match="exit code -9"):
            parser(bodies)
        assert isinstance(parser(bodies)[0], Parsed)  # a new process
    finally:
        parser.close()
    with pytest.raises(ParserGone, match="shutting down"):  # closed for good: no new process
        parser(bodies)


def test_http_answers_through_the_parse_process(store, token, rng):
    import psutil

    body, bad_json, no_zone, _ = _bodies(rng, token)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    def new_parsers() -> list[psutil.Process]:  # spawned ones (not multiprocessing's resource tracker)
        return [c for c in psutil.Process().children() if c.pid not in before and "spawn_main" in " ".join(c.cmdline())]

    before = {c.pid for c in psutil.Process().children()}
    with TestClient(create_app(store, parse_process=True)) as client:
        parsers = new_parsers()
        assert len(parsers) == 1
        first = client.post("/api/v1/reports", content=body, headers=headers)
        assert first.status_code == 200 and first.json()["status"] == "accepted"
        assert client.post("/api/v1/reports", content=body, headers=headers).json()["status"] == "duplicate"
        refused = client.post("/api/v1/reports", content=bad_json, headers=headers)
        assert refused.status_code == 422 and "invalid JSON" in refused.json()["detail"]
        assert client.post("/api/v1/reports", content=no_zone, headers=headers).status_code == 422
        parsers[0].kill()
        parsers[0].wait(10)
        gone = client.post("/api/v1/reports", content=body, headers=headers)
        assert gone.status_code == 503 and "parse process ended" in gone.json()["detail"]  # the agent retries
        assert client.post("/api/v1/reports", content=body, headers=headers).json()["status"] == "duplicate"
        parsers = new_parsers()
        assert len(parsers) == 1 and parsers[0].is_running()
    assert store.counts()["reports"] == 1
    assert not parsers[0].is_running()  # the app's shutdown ends it


def test_a_batch_of_captures_is_split_between_two_workers_in_order(rng, any_token):
    import json as _json

    from secscan.demo import captures, fleet
    from secscan.model.signing import seal
    from secscan.wiring.collector import decode_capture

    pcs = fleet.draw(2023)[:40]
    bodies = [seal(_json.dumps(captures.render(pc, fleet.now_for_period(), 2023)).encode() + b" " * 20_000,
                   any_token) for pc in pcs]
    bodies.insert(7, b"not a report")
    assert sum(map(len, bodies)) >= ParseProcess.SPLIT_FROM
    parser = ParseProcess(max_bytes=1 << 20, decoder=decode_capture, processes=2)
    try:
        there = parser(bodies)
        assert all(w is not None for w in parser._workers)  # both took part
    finally:
        parser.close()
    here = parse_all(bodies, 1 << 20, decode_capture)
    assert [_shape(g) for g in there] == [_shape(g) for g in here]
    assert [p.filing.hostname for p in there if isinstance(p, Parsed)] == [pc.hostname for pc in pcs]
