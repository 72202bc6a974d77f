"""The officers' web console: an ASGI app the wiring mounts at ``/console`` on the collector's server.

Every page is rendered on the server from Jinja2 templates with autoescaping, served with a
Content-Security-Policy that allows no script at all and nothing from another origin. Every
route but the login form and the stylesheet needs a session; every route that names a unit or a
PC checks it against the account's scope and answers an out-of-scope one exactly as a missing
one (404), so the console does not even tell that it exists.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.applications import Starlette
from starlette.routing import Mount

from secscan.collector.store import Store
from secscan.collector.users import User, Users
from secscan.console import views
from secscan.console.sessions import LOGIN_COOKIE, LOGIN_SECONDS, SESSION_COOKIE, SESSION_SECONDS, Session, Signer
from secscan.report.inputs import ReportInput
from secscan.report.summary import Summary, summarise

HERE = Path(__file__).parent
LANGS = ("vi", "en")
LANG_COOKIE = "secscan_lang"
SECRET_META = "console_secret"
MAX_FORM_BYTES = 8192
SUMMARY_SECONDS = 60.0  # the overview's figures are recomputed at most this often per process
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
TEXTS = {lang: json.loads((HERE / "i18n" / f"{lang}.json").read_text(encoding="utf-8")) for lang in LANGS}


class NotVisible(Exception):
    """A unit or PC that does not exist or is outside the account's scope: both answer 404."""


class LoginNeeded(Exception):
    pass


@dataclass
class Visitor:
    user: User
    session: Session
    scope: set[str] | None


def console_secret(store: Store) -> bytes:
    """The key that signs sessions, kept in the store so every collector process shares it."""
    value = store.get_meta(SECRET_META)
    if value is None:
        store.set_meta(SECRET_META, secrets.token_hex(32))
        value = store.get_meta(SECRET_META)  # another process may have written first: use what is stored
    return bytes.fromhex(value or "")


class SummaryCache:
    """The report stage's Summary of the whole store, recomputed when older than ``seconds``."""

    def __init__(self, load: Callable[[], ReportInput], seconds: float) -> None:
        self.load, self.seconds = load, seconds
        self._lock = threading.Lock()
        self._value: tuple[float, Summary] | None = None

    def get(self) -> Summary:
        with self._lock:
            if self._value is None or time.monotonic() - self._value[0] > self.seconds:
                self._value = (time.monotonic(), summarise(self.load()))
            return self._value[1]


class Pages:
    """What every route shares: the store, the accounts, the session signer, the overview's cached
    figures and the templates, with the steps each page takes (who is asking, in which language,
    whether the unit is theirs to see, the page itself)."""

    def __init__(self, store: Store, load_input: Callable[[], ReportInput], summary_seconds: float) -> None:
        self.store = store
        self.users = Users(store.db)
        self.signer = Signer(console_secret(store))
        self.summaries = SummaryCache(load_input, summary_seconds)
        self.env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.env.globals.update(pct=views.pct, indicator_keys=views.INDICATOR_KEYS, marks=views.MARKS)

    def lang_of(self, request: Request, user: User | None = None) -> str:
        asked = request.query_params.get("lang")
        if asked in LANGS:
            return asked
        kept = request.cookies.get(LANG_COOKIE)
        if kept in LANGS:
            return kept
        return user.lang if user and user.lang in LANGS else "vi"

    def page(self, request: Request, template: str, status: int = 200, visitor: Visitor | None = None,
             csrf: str = "", **context: Any) -> HTMLResponse:
        lang = self.lang_of(request, visitor.user if visitor else None)
        if visitor:
            csrf = self.signer.csrf(visitor.session.nonce)
        html = self.env.get_template(template).render(
            t=TEXTS[lang], lang=lang, base=request.scope.get("root_path", ""), csrf=csrf,
            user=visitor.user if visitor else None, **context)
        response = HTMLResponse(html, status_code=status)
        if request.query_params.get("lang") in LANGS:
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="strict",
                                secure=request.url.scheme == "https", path=cookie_path(request))
        return response

    def visitor(self, request: Request) -> Visitor:
        session = self.signer.session(request.cookies.get(SESSION_COOKIE))
        if session is None:
            raise LoginNeeded
        user = self.users.get(session.user)
        if user is None or user.disabled or user.session_epoch != session.epoch:
            raise LoginNeeded
        return Visitor(user, session, self.users.scope(user))

    def unit_in_scope(self, v: Visitor, unit_id: str) -> dict[str, Any]:
        unit = self.store.unit(unit_id) if views.visible(v.scope, unit_id) else None
        if unit is None:
            raise NotVisible
        return unit

    def login_page(self, request: Request, error: str | None = None, status: int = 200) -> Response:
        cookie, nonce = self.signer.new_login()
        response = self.page(request, "login.html", status, csrf=self.signer.csrf(nonce), error=error)
        response.set_cookie(LOGIN_COOKIE, cookie, max_age=LOGIN_SECONDS, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", path=cookie_path(request))
        return response


def cookie_path(request: Request) -> str:
    return request.scope.get("root_path") or "/"


async def form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}


def create_console(store: Store, load_input: Callable[[], ReportInput], *,
                   summary_seconds: float = SUMMARY_SECONDS) -> FastAPI:
    """The console over ``store``; ``load_input`` builds the report stage's input from it (the
    wiring hands in the same function `secscan report` uses)."""
    pages = Pages(store, load_input, summary_seconds)
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    _add_headers_and_errors(app, pages)
    _add_login_routes(app, pages)
    _add_report_pages(app, pages)
    return app


def _add_headers_and_errors(app: FastAPI, pages: Pages) -> None:
    """The security headers on every answer, the stylesheet, and the answers for no session
    (to the login form) and for what is missing or out of scope (404)."""

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable) -> Response:
        response = await call_next(request)
        response.headers.update(HEADERS)
        return response

    @app.exception_handler(LoginNeeded)
    async def to_login(request: Request, exc: LoginNeeded) -> Response:
        return RedirectResponse(f"{request.scope.get('root_path', '')}/login", status_code=303)

    @app.exception_handler(NotVisible)
    async def not_visible(request: Request, exc: NotVisible) -> Response:
        return pages.page(request, "error.html", 404, pages.visitor(request), code=404, message="not_found")

    @app.exception_handler(404)
    async def no_route(request: Request, exc: Exception) -> Response:
        return pages.page(request, "error.html", 404, code=404, message="not_found")

    @app.get("/static/console.css")
    def stylesheet() -> Response:
        return Response((HERE / "static" / "console.css").read_bytes(), media_type="text/css",
                        headers={"Cache-Control": "max-age=3600"})


def _add_login_routes(app: FastAPI, pages: Pages) -> None:
    """The login form, signing in (CSRF-checked, a new session nonce) and signing out."""
    signer = pages.signer

    @app.get("/login")
    def login_form(request: Request) -> Response:
        return pages.login_page(request)

    @app.post("/login")
    async def login(request: Request) -> Response:
        fields = await form(request)
        if not signer.csrf_ok(signer.login_nonce(request.cookies.get(LOGIN_COOKIE)), fields.get("csrf")):
            return pages.login_page(request, "csrf_failed", 403)
        user = pages.users.authenticate(fields.get("user", "")[:64], fields.get("password", "")[:1024])
        if user is None:
            return pages.login_page(request, "login_failed", 401)
        cookie, _ = signer.new_session(user.name, user.session_epoch)  # a new nonce: no session fixation
        response = RedirectResponse(f"{request.scope.get('root_path', '')}/", status_code=303)
        response.set_cookie(SESSION_COOKIE, cookie, max_age=SESSION_SECONDS, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", path=cookie_path(request))
        response.delete_cookie(LOGIN_COOKIE, path=cookie_path(request))
        return response

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        v = pages.visitor(request)
        if not signer.csrf_ok(v.session.nonce, (await form(request)).get("csrf")):
            return pages.page(request, "error.html", 403, v, code=403, message="csrf_failed")
        response = RedirectResponse(f"{request.scope.get('root_path', '')}/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=cookie_path(request))
        return response


def _add_report_pages(app: FastAPI, pages: Pages) -> None:
    """The pages of figures: the overview, a unit, the PC search and a PC, each within the
    account's scope."""
    store, summaries = pages.store, pages.summaries

    @app.get("/")
    def overview(request: Request) -> Response:
        v = pages.visitor(request)
        summary = summaries.get()
        rows = views.rows_in_scope(summary, v.scope)
        scope_unit = store.unit(v.user.unit_id) if v.user.unit_id else None
        return pages.page(request, "overview.html", visitor=v, rows=rows, ind=views.merged(rows),
                          organisation=summary.inp.organisation, period=summary.inp.period,
                          computed_at=f"{summary.inp.generated_at:%Y-%m-%d %H:%M} UTC",
                          scope_unit=scope_unit["name"] if scope_unit else None)

    @app.get("/unit/{unit_id}")
    def unit(request: Request, unit_id: str) -> Response:
        v = pages.visitor(request)
        info = pages.unit_in_scope(v, unit_id)
        row = next((r for r in summaries.get().units if r.unit.id == unit_id), None)
        children = [u for u in store.units() if u["parent_id"] == unit_id and views.visible(v.scope, u["id"])]
        hosts, control_ids = views.unit_hosts(store, unit_id)
        titles = {c.id: c.title.get(pages.lang_of(request, v.user)) for c in summaries.get().inp.controls}
        controls = [{"id": c, "title": titles.get(c, c)} for c in control_ids]
        return pages.page(request, "unit.html", visitor=v, unit=info, row=row, children=children, hosts=hosts,
                          controls=controls)

    @app.get("/search")
    def search(request: Request, q: str = "") -> Response:
        v = pages.visitor(request)
        query = q.strip()[:100]
        units = {u["id"]: u["name"] for u in store.units() if views.visible(v.scope, u["id"])}
        found = views.search_hosts(store, query, units) if len(query) >= 2 else []
        return pages.page(request, "search.html", visitor=v, q=query, found=found, units=units)

    @app.get("/pc/{host_id}")
    def pc(request: Request, host_id: str) -> Response:
        v = pages.visitor(request)
        exists, unit_id = pages.users.unit_of_host(host_id)
        if not exists:
            raise NotVisible
        info = pages.unit_in_scope(v, unit_id) if unit_id is not None else None
        if info is None and v.scope is not None:
            raise NotVisible
        host = next(h for h in store.hosts(unit_id) if h["id"] == host_id) if unit_id else \
            next(h for h in store.hosts() if h["id"] == host_id)
        data = views.pc_page(store, host, summaries.get(), pages.lang_of(request, v.user))
        return pages.page(request, "pc.html", visitor=v, host=host, unit=info or {"id": "", "name": ""}, **data)


PREFIX = "/console"


class WithConsole:
    """The collector's ASGI app with the console under ``/console``: requests there go to the
    console, everything else (the push path first of all) straight to the collector's app, untouched;
    lifespan events go to the collector's app."""

    def __init__(self, api: Any, console: FastAPI) -> None:
        self.api = api
        self.console = Starlette(routes=[Mount(PREFIX, console)])

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path == PREFIX or path.startswith(PREFIX + "/")):
            await self.console(scope, receive, send)
        else:
            await self.api(scope, receive, send)


def mounted(api: Any, store: Store, load_input: Callable[[], ReportInput]) -> WithConsole:
    return WithConsole(api, create_console(store, load_input))
