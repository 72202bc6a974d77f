"""The zero-install deployment kit for one unit's Windows PCs (``secscan agent package windows``).

A kit is a folder an IT officer copies to a PC (or to a share for Group Policy):

- ``collect.ps1``: the capture script, exactly as ``secscan agent script windows`` exports it;
- ``secscan.json``: the configuration collect.ps1 reads with ``-Config`` (``KIT_FORMAT``);
- ``token.txt``: the unit token (readable by SYSTEM and Administrators only once installed);
- ``install.ps1`` / ``uninstall.ps1``: set up / remove %ProgramData%\\secscan and the scheduled task;
- ``secscan-task.xml``: the task definition install.ps1 registers (also deploy/windows/);
- ``HUONG-DAN.txt``: the instructions in Vietnamese (UTF-8 with BOM and CRLF, for Notepad on Windows 7).

Standard library and the model only, like the rest of the agent.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from secscan.model.capture import SCRIPT_VERSION
from secscan.model.signing import TokenError, parse_token

KIT_FORMAT = "secscan.windows-kit/1"
REPORTS_PATH = "/api/v1/reports"
DEFAULT_MAX_FILES = 60
DEFAULT_MAX_MB = 64
TEMPLATES = "kit_templates"
STATIC_FILES = ("install.ps1", "uninstall.ps1", "secscan-task.xml")
FILES = ("collect.ps1", "secscan.json", "token.txt", *STATIC_FILES, "HUONG-DAN.txt")
# A unit id as org.yaml spells it (secscan.model.org.Id; a test keeps the two equal).
UNIT_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


class KitError(ValueError):
    """A kit that cannot be made; the message is the one line the command prints."""


def template(name: str) -> str:
    return resources.files("secscan.agent.windows").joinpath(TEMPLATES, name).read_text(encoding="utf-8")


def check_unit(unit: str) -> str:
    if not UNIT_ID.match(unit):
        raise KitError(f"--unit: {unit!r} is not a unit id (lower-case letters, digits, '.', '_', '-'; as in org.yaml)")
    return unit


def check_token(token: str) -> tuple[str, str]:
    try:
        return parse_token(token)
    except TokenError as exc:
        raise KitError(f"--token-file: {exc}") from exc


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_collector(url: str) -> str:
    """The collector's report URL: https:// (http:// only for this machine, for tests). The base
    URL or the reports URL may be given: the path ends in /api/v1/reports either way."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise KitError(f"--collector: {url!r} is not an https:// URL")
    if parts.scheme == "http" and not _loopback(host):
        raise KitError(f"--collector: {url} is plain http://; use https:// (http:// only for 127.0.0.1 or localhost)")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise KitError(f"--collector: {url} must not carry a user, password, query or fragment")
    path = parts.path.rstrip("/")
    if not path.endswith(REPORTS_PATH):
        path += REPORTS_PATH
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def check_share(path: str) -> str:
    """A UNC folder (\\\\server\\share\\...): a mapped drive letter does not exist for SYSTEM."""
    value = path.strip().replace("/", "\\").rstrip("\\")
    if not re.match(r"^\\\\[^\\]+\\[^\\]+", value):
        raise KitError(f"--share: {path!r} is not a UNC path like \\\\server\\secscan$\\unit "
                       "(the task runs as SYSTEM, which has no mapped drives)")
    if any(c in value for c in '<>"|?*') or any(ord(c) < 32 for c in value):
        raise KitError(f"--share: {path!r} contains characters Windows does not allow in a path")
    return value


def check_proxy(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise KitError(f"--proxy: {url!r} is not a proxy URL like http://proxy.example.gov.vn:3128")
    return url.strip()


def config(unit: str, collector: str | None, share: str | None, *, proxy: str | None = None,
           max_files: int = DEFAULT_MAX_FILES, max_mb: int = DEFAULT_MAX_MB) -> dict[str, Any]:
    """secscan.json: what collect.ps1 -Config reads. Relative paths are relative to this file."""
    if max_files < 1 or max_mb < 1:
        raise KitError("--spool-max-files and --spool-max-mb must be 1 or more")
    return {
        "format": KIT_FORMAT,
        "unit": unit,
        "collector": collector,
        "share": share,
        "proxy": proxy,
        "token_file": "token.txt",
        "spool": None,  # None: %ProgramData%\secscan\spool
        "spool_max_files": max_files,
        "spool_max_mb": max_mb,
        "script_version": SCRIPT_VERSION,
    }


def _where(cfg: dict[str, Any]) -> tuple[str, str]:
    """The two Vietnamese passages of HUONG-DAN.txt that depend on the configuration."""
    if cfg["collector"] and cfg["share"]:
        head = (f"Gửi qua mạng (HTTPS) tới: {cfg['collector']}\n"
                f"Dự phòng khi không gửi được qua mạng: thư mục chia sẻ {cfg['share']}")
    elif cfg["collector"]:
        head = f"Gửi qua mạng (HTTPS) tới: {cfg['collector']}"
    else:
        head = f"Ghi vào thư mục chia sẻ: {cfg['share']}"
    lines = []
    if cfg["collector"]:
        lines += ["  - Gửi qua mạng: HTTPS POST tới",
                  f"        {cfg['collector']}",
                  "    Tệp được ghi vào hàng đợi C:\\ProgramData\\secscan\\spool trước khi gửi và chỉ bị xóa",
                  "    khi máy chủ xác nhận đã nhận. Chưa gửi được (mất mạng, máy chủ bận) thì giữ lại và gửi",
                  f"    lần sau; hàng đợi giữ tối đa {cfg['spool_max_files']} tệp và {cfg['spool_max_mb']} MB, "
                  "quá thì bỏ tệp cũ nhất",
                  "    và ghi việc đó vào nhật ký. Máy chủ từ chối thì tệp được chuyển vào spool\\rejected",
                  "    kèm lý do (tệp .reason.txt)."]
    if cfg["share"]:
        when = "Khi không gửi được qua mạng, tệp" if cfg["collector"] else "Tệp"
        lines += ["  - Thư mục chia sẻ:",
                  f"        {cfg['share']}",
                  f"    {when} được ghi vào đó (tên tạm .tmp rồi mới đổi tên, nên máy chủ",
                  "    không bao giờ đọc phải tệp ghi dở)."]
    return head, "\n".join(lines)


def guide(cfg: dict[str, Any], key_id: str) -> str:
    head, where = _where(cfg)
    text = template("HUONG-DAN.txt")
    for key, value in {"unit": cfg["unit"], "key_id": key_id, "delivery": head, "where": where}.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def build(out: Path, *, unit: str, token: str, collector: str | None, share: str | None, proxy: str | None = None,
          max_files: int = DEFAULT_MAX_FILES, max_mb: int = DEFAULT_MAX_MB, force: bool = False) -> list[Path]:
    """Write the kit into ``out`` and return the files written. Everything is checked before the
    first file is written."""
    from secscan.agent.windows import script_text

    check_unit(unit)
    key_id, _ = check_token(token)
    if not collector and not share:
        raise KitError("give --collector URL, --share PATH, or both (the share is then the fallback)")
    collector = check_collector(collector) if collector else None
    share = check_share(share) if share else None
    proxy = check_proxy(proxy) if proxy else None
    cfg = config(unit, collector, share, proxy=proxy, max_files=max_files, max_mb=max_mb)
    if out.exists() and not out.is_dir():
        raise KitError(f"--out: {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise KitError(f"--out: {out} is not empty (an older kit?); give --force to overwrite its files")

    contents: dict[str, bytes] = {
        "collect.ps1": script_text().encode("ascii"),
        "secscan.json": (json.dumps(cfg, indent=2, ensure_ascii=True) + "\n").encode("ascii"),
        "token.txt": (token.strip() + "\r\n").encode("ascii"),
        **{name: template(name).encode("ascii") for name in STATIC_FILES},
        # Notepad on Windows 7 needs the BOM to read UTF-8, and CRLF to see lines.
        "HUONG-DAN.txt": b"\xef\xbb\xbf" + guide(cfg, key_id).replace("\r\n", "\n").replace("\n", "\r\n").encode(),
    }
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in FILES:
        path = out / name
        # The token file is private from the start on the machine that makes the kit.
        mode = 0o600 if name == "token.txt" else 0o644
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(contents[name])
        if name == "token.txt":
            os.chmod(path, 0o600)
        written.append(path)
    return written
