"""The shipped scheduling files (systemd timer, Windows Task Scheduler XML) call options the agent
and collect.ps1 really have."""

from __future__ import annotations

import re
import shlex
import xml.etree.ElementTree as ET
from pathlib import Path

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
