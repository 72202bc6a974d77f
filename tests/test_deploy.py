"""The shipped scheduling files (systemd timer, Windows Task Scheduler XML) call options the agent
and collect.ps1 really have; the collector's unit calls options `serve` really has, in a sandbox;
its nginx configuration uses the same deadlines; its PostgreSQL roles give the service only what
it needs."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from secscan.agent.cli import agent

DEPLOY = Path(__file__).parents[1] / "deploy"
TASK_NS = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}


def agent_run_options() -> set[str]:
    help_text = CliRunner().invoke(agent, ["run", "--help"]).output
    return set(re.findall(r"(--[a-z][a-z-]+)", help_text))


def options_in(args: list[str]) -> set[str]:
    return {a for a in args if a.startswith("--")}


def test_systemd_service_uses_existing_options() -> None:
    service = (DEPLOY / "linux" / "secscan-agent.service").read_text()
    exec_start = next(line for line in service.splitlines() if line.startswith("ExecStart="))
    args = shlex.split(exec_start.removeprefix("ExecStart="))
    assert args[1:3] == ["agent", "run"]
    assert options_in(args) <= agent_run_options()
    assert "SuccessExitStatus=3" in service  # a spooled report is not a failed run
    timer = (DEPLOY / "linux" / "secscan-agent.timer").read_text()
    assert "OnCalendar=" in timer and "Persistent=true" in timer


def test_windows_task_runs_collect_ps1_as_system() -> None:
    # The task the kit's install.ps1 registers (the same file: tests/agent/windows/test_kit.py).
    root = ET.parse(DEPLOY / "windows" / "secscan-agent-task.xml").getroot()
    assert root.find("t:Principals/t:Principal/t:UserId", TASK_NS).text == "S-1-5-18"  # SYSTEM
    command = root.find("t:Actions/t:Exec/t:Command", TASK_NS).text
    assert command == r"%SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe"
    args = shlex.split(root.find("t:Actions/t:Exec/t:Arguments", TASK_NS).text)
    assert args[:6] == ["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File",
                        r"C:\ProgramData\secscan\collect.ps1"]
    assert args[6:] == ["-Config", r"C:\ProgramData\secscan\secscan.json"]
    # -Config is a parameter collect.ps1 really has
    from secscan.agent.windows import script_text

    assert "[string]$Config = ''" in script_text()
    settings = root.find("t:Settings", TASK_NS)
    assert settings.find("t:ExecutionTimeLimit", TASK_NS).text == "PT10M"
    assert settings.find("t:MultipleInstancesPolicy", TASK_NS).text == "IgnoreNew"
    assert settings.find("t:StartWhenAvailable", TASK_NS).text == "true"
    assert root.find("t:Triggers/t:CalendarTrigger/t:RandomDelay", TASK_NS).text == "PT2H"
    assert root.find("t:Triggers/t:CalendarTrigger/t:ScheduleByDay/t:DaysInterval", TASK_NS).text == "1"
    assert root.find("t:Triggers/t:BootTrigger/t:Delay", TASK_NS).text == "PT15M"
    assert "secscan.exe" not in (DEPLOY / "windows" / "secscan-agent-task.xml").read_text()


# --- the collector's deployment (deploy/collector/) ----------------------------------------------

COLLECTOR = DEPLOY / "collector"


def unit_directives(path: Path) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith(("#", "[")) and "=" in line:
            key, _, value = line.partition("=")
            directives.setdefault(key, []).append(value)
    return directives


def env_file(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def systemd_words(command: str, env: dict[str, str]) -> list[str]:
    """ExecStart= as systemd runs it: ``${X}`` is one word, a lone ``$X`` splits at whitespace."""
    words: list[str] = []
    for word in shlex.split(command):
        if re.fullmatch(r"\$[A-Z_]+", word):
            words += env.get(word[1:], "").split()
        else:
            words.append(re.sub(r"\$\{([A-Z_]+)\}", lambda m: env[m.group(1)], word))
    return words


def collector_envs() -> list[dict[str, str]]:
    """The EnvironmentFile example as shipped, and with its commented nginx alternative."""
    text = (COLLECTOR / "collector.env.example").read_text()
    behind_nginx = re.sub(r"^#((?:HOST|PORT|TLS_OPTIONS)=.*)$", r"\1", text, flags=re.M)
    return [env_file(text), env_file(behind_nginx)]


def test_collector_unit_runs_serve_with_options_it_really_has(tmp_path: Path) -> None:
    from secscan.collector.server import RESERVED_FILES
    from secscan.wiring.collector import collector

    unit = unit_directives(COLLECTOR / "secscan-collector.service")
    (exec_start,) = unit["ExecStart"]
    for env in collector_envs():
        args = systemd_words(exec_start, env)
        assert args[1:3] == ["collector", "serve"]
        # the TLS files must exist for click to accept them: the same arguments with stand-ins
        for name in ("cert.pem", "key.pem"):
            (tmp_path / name).write_text("")
        args = [str(tmp_path / Path(a).name) if a.startswith("/etc/secscan/tls/") else a for a in args]
        serve = collector.commands["serve"]
        ctx = serve.make_context("serve", args[3:])  # parses and type-checks every option, runs nothing
        assert ctx.params["max_connections"] + RESERVED_FILES <= int(unit["LimitNOFILE"][0])
        assert env["SECSCAN_DB"].startswith("/var/lib/secscan/")  # the one folder it may write
    assert args[0] == "/opt/secscan/bin/secscan"
    # the values are serve's own defaults
    defaults = {p.name: p.default for p in collector.commands["serve"].params}
    env = collector_envs()[0]
    assert float(env["HEADER_TIMEOUT"]) == defaults["header_timeout"]
    assert float(env["BODY_TIMEOUT"]) == defaults["body_timeout"]
    assert float(env["IDLE_TIMEOUT"]) == defaults["idle_timeout"]
    assert int(env["MAX_CONNECTIONS"]) == defaults["max_connections"]


def test_collector_unit_is_sandboxed() -> None:
    unit = unit_directives(COLLECTOR / "secscan-collector.service")
    expected = {"User": "secscan", "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
                "PrivateTmp": "yes", "CapabilityBoundingSet": "", "AmbientCapabilities": "",
                "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "MemoryDenyWriteExecute": "yes",
                "ReadWritePaths": "/var/lib/secscan", "StateDirectory": "secscan",
                "EnvironmentFile": "/etc/secscan/collector.env"}
    for key, value in expected.items():
        assert unit.get(key) == [value], key
    assert unit["SystemCallFilter"] == ["@system-service", "~@privileged"]
    assert "root" not in unit["User"] + unit["Group"]


def nginx_directives(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip().rstrip(";")
        if line and not line.endswith(("{", "}")):
            name, _, value = line.partition(" ")
            found.setdefault(name, value.strip())
    return found


def test_nginx_uses_the_same_deadlines_and_the_collector_address() -> None:
    from secscan.collector.intake import MAX_REPORT_BYTES
    from secscan.wiring.collector import collector

    nginx = nginx_directives((COLLECTOR / "nginx-secscan-collector.conf").read_text())
    defaults = {p.name: p.default for p in collector.commands["serve"].params}
    assert nginx["client_header_timeout"] == f"{defaults['header_timeout']:g}s"
    assert nginx["client_body_timeout"] == f"{defaults['body_timeout']:g}s"
    assert nginx["keepalive_timeout"] == f"{defaults['idle_timeout']:g}s"
    assert nginx["client_max_body_size"] == f"{MAX_REPORT_BYTES // 2**20}m"
    assert nginx["limit_conn"].startswith("secscan_per_address ")
    assert nginx["proxy_request_buffering"] == "on"  # slow bodies stay in nginx
    behind_nginx = collector_envs()[1]
    assert nginx["server"] == f"{behind_nginx['HOST']}:{behind_nginx['PORT']}"
    assert behind_nginx["TLS_OPTIONS"] == ""


def test_nginx_accepts_the_configuration(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if not nginx or not shutil.which("openssl"):
        pytest.skip("nginx or openssl not installed (apt-get install nginx openssl) to check the configuration")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=collector",
                    "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
                   check=True, capture_output=True)
    site = (COLLECTOR / "nginx-secscan-collector.conf").read_text().replace("/etc/secscan/tls/", f"{tmp_path}/")
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
        f"http {{\n client_body_temp_path {tmp_path}/body;\n proxy_temp_path {tmp_path}/proxy;\n"
        f" include {tmp_path}/site.conf;\n}}\n")
    done = subprocess.run([nginx, "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.postgres
def test_postgresql_roles_give_the_service_only_what_it_needs(tmp_path: Path) -> None:
    """The role SQL on a real PostgreSQL: the owner role initialises the store, the service runs
    `serve` as the runtime role and stores an agent's push; the runtime role cannot change the
    schema; ANALYZE (Store.analyze after a large import) as the runtime role is skipped with a
    warning, not an error."""
    import random

    import httpx
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import ProgrammingError

    from secscan.synth.samples import fleet, host_report
    from secscan.testing import PostgresCluster, _free_port, postgres_bindir

    bindir = postgres_bindir()
    if bindir is None or not shutil.which("psql"):
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl, psql) not found: run scripts/system-deps.sh")
    cluster = PostgresCluster(bindir).start()
    try:
        psql = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", cluster.user, "-d", "postgres",
                               "-X", "-q", "-v", "owner_password=owner-pw", "-v", "app_password=app-pw", "-f",
                               str(COLLECTOR / "postgresql-roles.sql")], capture_output=True, text=True)
        assert psql.returncode == 0, psql.stderr
        base = f"postgresql+psycopg://{{}}@127.0.0.1:{cluster.port}/secscan"
        owner, app = base.format("secscan_owner:owner-pw"), base.format("secscan_app:app-pw")
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}

        def secscan(url: str, *args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([sys.executable, "-m", "secscan", "collector", "--db", url, *args],
                                  capture_output=True, text=True, env=env, timeout=120)

        assert secscan(app, "init").returncode != 0  # the service's role cannot create the tables
        assert secscan(owner, "init").returncode == 0
        assert secscan(app, "unit", "add", "xa-a", "--name", "UBND xã A").returncode == 0
        made = secscan(app, "token", "create", "--unit", "xa-a")
        assert made.returncode == 0, made.stderr
        token = made.stdout.strip()

        port = _free_port()
        server = subprocess.Popen([sys.executable, "-m", "secscan", "collector", "--db", app, "serve", "--port",
                                   str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            for _ in range(150):
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            else:
                server.terminate()
                pytest.fail(server.communicate(timeout=10)[1].decode()[-2000:])
            doc = host_report(random.Random(3), fleet(1, ["xa-a"])[0], token=token)
            r = httpx.post(f"http://127.0.0.1:{port}/api/v1/reports", content=json.dumps(doc),
                           headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, r.text
        finally:
            server.terminate()
            server.wait(15)

        engine = create_engine(app)
        try:
            with engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM reports")).scalar_one() == 1
                for ddl in ("CREATE TABLE intruder (x int)", "DROP TABLE reports", "ALTER TABLE reports ADD x int",
                            "TRUNCATE reports"):
                    with pytest.raises(ProgrammingError, match=r"permission denied|must be owner"):
                        conn.execute(text(ddl))
                    conn.rollback()
                notices: list[str] = []
                conn.connection.driver_connection.add_notice_handler(lambda d: notices.append(d.message_primary))
                conn.execute(text("ANALYZE hosts"))
                conn.commit()
                if int(conn.execute(text("SHOW server_version_num")).scalar_one()) < 170000:
                    assert any(n.startswith("skipping") for n in notices), notices  # a WARNING, not an error
        finally:
            engine.dispose()
    finally:
        cluster.stop()
