"""The console's pages over a district store: scope on every route (enumerated from the app), the
same figures as the report stage, hostile names inert, CSRF and session fixation refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import quote, unquote

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Route

from secscan.collector.api import create_app
from secscan.console.sessions import SESSION_COOKIE
from secscan.report.summary import summarise
from secscan.wiring.collector import with_console
from secscan.wiring.report import from_store
from tests.console.conftest import ACCOUNTS, HOSTILE, PASSWORD, District


@pytest.fixture(scope="module")
def app(district: District):
    return with_console(create_app(district.store()), district.store())


def client(app) -> TestClient:
    return TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def logged_in(app, name: str) -> TestClient:
    c = client(app)
    token = csrf_of(c.get("/console/login").text)
    answer = c.post("/console/login", data={"user": name, "password": PASSWORD, "csrf": token})
    assert answer.status_code == 303 and answer.headers["location"] == "/console/", answer.text
    return c


@pytest.fixture(scope="module")
def sessions(app) -> Iterator[dict[str, TestClient]]:
    yield {name: logged_in(app, name) for name in ACCOUNTS}


def console_routes(app) -> list[Route]:
    (mount,) = app.console.routes
    return [r for r in mount.app.routes if isinstance(r, Route)]


def test_every_page_needs_a_session(app) -> None:
    c = client(app)
    for route in console_routes(app):
        path = route.path.replace("{unit_id}", "van-lang").replace("{host_id}", "x")
        for method in route.methods - {"HEAD"}:
            answer = c.request(method, "/console" + path)
            if path in ("/login", "/static/console.css"):
                assert answer.status_code == 200 if method == "GET" else 403, (method, path)
            else:
                assert answer.status_code == 303 and answer.headers["location"] == "/console/login", (method, path)


def _outside(district: District, name: str) -> tuple[str, list[dict]]:
    """A unit the account does not see, and its PCs."""
    unit = {"canbo-vanlang": "vinh-chan", "lanhdao-vanlang": "vinh-chan"}.get(name)
    return (unit, district.hosts(unit)) if unit else ("", [])


@pytest.mark.parametrize("name", [n for n, (role, unit) in ACCOUNTS.items() if unit == "van-lang"])
def test_no_route_shows_an_out_of_scope_unit_or_pc(app, district: District, sessions, name: str) -> None:
    """Every route of the console (so a new one cannot escape), with the ids of a unit and a PC
    outside the account's scope, and without any: a 404 for the former, never a name or a
    hostname of the other unit in the answer."""
    unit, hosts = _outside(district, name)
    secrets = [district.store().unit(unit)["name"]] + [h["hostname"] for h in hosts] + [h["id"] for h in hosts]
    c = sessions[name]
    tried = 0
    values = {"unit_id": [unit], "host_id": [h["id"] for h in hosts],
              "q": [h["hostname"] for h in hosts] + [ip for h in hosts for ip in h["ips"] or []]}
    for route in console_routes(app):
        params = re.findall(r"{(\w+)}", route.path)
        queries = [q.name for q in route.dependant.query_params]
        assert set(params + queries) <= set(values), f"{route.path}: a parameter this test does not know how to fill"
        paths = [route.path.replace(f"{{{p}}}", v) for p in params for v in values[p]] or [route.path]
        paths += [f"{route.path}?{q}={quote(v)}" for q in queries for v in values[q]]  # the query is echoed back
        for path in paths:
            for method in sorted(route.methods - {"HEAD"}):
                if route.path == "/logout":
                    continue  # tried last, below: it ends the session
                answer = c.request(method, "/console" + path)
                tried += 1
                if params:
                    assert answer.status_code == 404, (method, path)
                echoed = f'value="{unquote(path.partition("=")[2])}"' if "?" in path else None
                body = answer.text.replace(echoed, "") if echoed else answer.text
                leaked = [s for s in secrets if s in body or s.replace('"', "&#34;") in body]
                assert not leaked, (method, path, leaked)
    assert tried >= 5


def test_the_commune_officer_sees_their_commune_only(app, district: District, sessions) -> None:
    page = sessions["canbo-vanlang"].get("/console/").text
    assert 'data-unit="van-lang"' in page and 'data-unit="vinh-chan"' not in page
    assert "UBND xã Vĩnh Chân" not in page
    admin = sessions["admin-huyen"].get("/console/").text
    assert 'data-unit="van-lang"' in admin and 'data-unit="vinh-chan"' in admin
    own = district.hosts("van-lang")[0]
    assert sessions["canbo-vanlang"].get(f"/console/pc/{own['id']}").status_code == 200
    assert sessions["canbo-huyen"].get(f"/console/pc/{district.hosts('vinh-chan')[0]['id']}").status_code == 200


class Figures(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, str] = {}
        self._key: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._key = dict(attrs).get("data-figure")

    def handle_data(self, data: str) -> None:
        if self._key:
            self.figures[self._key] = data.strip()
            self._key = None


def figures(html: str) -> dict[str, str]:
    parser = Figures()
    parser.feed(html)
    return parser.figures


def expected(ind) -> dict[str, str]:
    from secscan.console.views import INDICATOR_KEYS, pct

    out = {"hosts": str(ind.hosts), "score": pct(ind.score), "high_hosts": str(ind.high_hosts),
           "unmanaged": str(ind.unmanaged)}
    for key in INDICATOR_KEYS:
        c = getattr(ind, key)
        out |= {f"{key}.yes": str(c.yes), f"{key}.no": str(c.no), f"{key}.unknown": str(c.unknown),
                f"{key}.pct": pct(c.pct)}
    return out


@pytest.mark.parametrize("unit", ["van-lang", "vinh-chan"])
def test_a_units_figures_are_the_report_stages(sessions, district: District, unit: str) -> None:
    summary = summarise(from_store(district.db, None))  # what `secscan report pdf` prints from
    (row,) = [r for r in summary.units if r.unit.id == unit]
    assert row.ind.hosts == 5
    assert figures(sessions["admin-huyen"].get(f"/console/unit/{unit}").text) == expected(row.ind)
    assert figures(sessions["admin-huyen"].get("/console/").text) == expected(summary.org)
    if unit == "van-lang":  # the officer's overview: their commune's figures
        assert figures(sessions["canbo-vanlang"].get("/console/").text) == expected(row.ind)


def test_a_hostile_hostname_renders_inert(sessions, district: District) -> None:
    (host,) = [h for h in district.hosts("vinh-chan") if h["hostname"] == HOSTILE]
    for path in ("/console/unit/vinh-chan", f"/console/pc/{host['id']}", f"/console/search?q={quote('<script>')}"):
        answer = sessions["admin-huyen"].get(path)
        assert answer.status_code == 200
        assert HOSTILE not in answer.text and "<script" not in answer.text and "192.0.2.1" in answer.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in answer.text
        csp = answer.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp and "unsafe-inline" not in csp


def test_a_form_without_its_csrf_token_is_refused(app, district: District) -> None:
    c = client(app)
    c.get("/console/login")
    for token in (None, "forged", csrf_of(client(app).get("/console/login").text)):  # the last: another browser's
        data = {"user": "admin-huyen", "password": PASSWORD} | ({"csrf": token} if token else {})
        answer = c.post("/console/login", data=data)
        assert answer.status_code == 403 and SESSION_COOKIE not in answer.cookies
    c = logged_in(app, "canbo-vanlang")
    assert c.post("/console/logout", data={"csrf": "forged"}).status_code == 403
    assert c.get("/console/").status_code == 200  # still logged in
    token = csrf_of(c.get("/console/").text)
    assert c.post("/console/logout", data={"csrf": token}).status_code == 303


def test_a_session_cookie_set_before_login_is_replaced(app) -> None:
    c = client(app)
    c.cookies.set(SESSION_COOKIE, "attacker-chosen.value", path="/console")
    assert c.get("/console/").status_code == 303  # not a session
    token = csrf_of(c.get("/console/login").text)
    answer = c.post("/console/login", data={"user": "canbo-vanlang", "password": PASSWORD, "csrf": token})
    issued = answer.cookies[SESSION_COOKIE]
    assert issued != "attacker-chosen.value"
    assert 'HttpOnly' in answer.headers["set-cookie"] and "SameSite=strict" in answer.headers["set-cookie"]
    again = client(app)
    token = csrf_of(again.get("/console/login").text)
    second = again.post("/console/login", data={"user": "canbo-vanlang", "password": PASSWORD, "csrf": token})
    assert second.cookies[SESSION_COOKIE] != issued  # each login its own session


def test_a_changed_password_ends_the_open_sessions(app, district: District) -> None:
    from secscan.collector.users import Users

    users = Users(district.store().db)
    users.add("tam-thoi", "viewer", "vinh-chan", PASSWORD)
    c = logged_in(app, "tam-thoi")
    assert c.get("/console/").status_code == 200
    users.set_password("tam-thoi", PASSWORD + "-moi")
    assert c.get("/console/").status_code == 303


def test_wrong_password_and_english(app) -> None:
    c = client(app)
    token = csrf_of(c.get("/console/login?lang=en").text)
    answer = c.post("/console/login", data={"user": "canbo-vanlang", "password": "wrong-password", "csrf": token})
    assert answer.status_code == 401 and "Wrong user name or password" in answer.text
    assert "Đăng nhập" in client(app).get("/console/login").text  # Vietnamese first


def test_search_finds_a_pc_by_hostname_ip_or_mac_in_scope(sessions, district: District) -> None:
    host = district.hosts("van-lang")[1]
    for q in (host["hostname"].lower(), host["ips"][0], host["macs"][0].upper()):
        page = sessions["canbo-vanlang"].get("/console/search", params={"q": q}).text
        assert f'data-host="{host["id"]}"' in page, q
    assert 'data-host="' not in sessions["canbo-vanlang"].get("/console/search", params={"q": "VINH-CHAN"}).text
    assert 'data-host="' in sessions["admin-huyen"].get("/console/search", params={"q": "VINH-CHAN"}).text
