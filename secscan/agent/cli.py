"""``secscan agent``: run, decode a Windows capture, export the PowerShell script."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from secscan.agent import delivery
from secscan.model.host import HostReport
from secscan.model.signing import (
    ENVELOPE_MAGIC,
    EnvelopeError,
    TokenError,
    check,
    open_envelope,
    parse_token,
    sign,
    signing_key,
)


def _finish(report: HostReport, out: str | None, unit: str | None, token: str | None,
            push: str | None, spool: str | None, ca_bundle: str | None) -> None:
    if push and not token:
        raise click.UsageError("--push needs --token or --token-file (the collector accepts signed reports only)")
    if unit:
        report = report.model_copy(update={"unit": unit})
    document = report.to_document()
    if token:
        document = sign(document, token)
    text = delivery.dumps(document)
    if out:
        target = Path(out)
        if out.endswith(("/", "\\")) or target.is_dir():
            target = delivery.out_path(target, report.host.hostname, document["collected_at"],
                                       document["report_id"])
        delivery.write_atomic(target, text)
        click.echo(f"wrote {target}", err=True)
    elif not push:
        click.echo(text, nl=False)
    if push:
        spool_dir = Path(spool) if spool else delivery.default_spool()
        delivery.write_atomic(spool_dir / f"{document['report_id']}.json", text)
        result = delivery.push_spool(spool_dir, push, token, ca_bundle)
        for name, why in result.rejected:
            click.echo(f"rejected by collector: {name}: {why} (kept in {spool_dir / 'rejected'})", err=True)
        if result.error:
            click.echo(f"push failed, {len(result.pending)} report(s) kept in {spool_dir} for the next run: "
                       f"{result.error}", err=True)
            sys.exit(3)
        click.echo(f"delivered {len(result.delivered)} report(s) to {push}", err=True)


def _token_option(token: str | None, token_file: str | None, unit: str | None) -> str | None:
    if token_file:
        if token:
            raise click.UsageError("give --token or --token-file, not both")
        lines = Path(token_file).read_text(encoding="utf-8", errors="replace").split()
        token = lines[0] if lines else ""
    if token is None:
        return None
    if not unit:
        raise click.UsageError("--token needs --unit (the unit the token was issued for)")
    try:
        parse_token(token)
    except TokenError as exc:
        raise click.BadParameter(str(exc), param_hint="--token-file" if token_file else "--token") from exc
    return token


_common = [
    click.option("--out", "-o", help="FILE, or DIR/ for one file per run named by host and time"),
    click.option("--unit", help="unit id from org.yaml"),
    click.option("--token", envvar="SECSCAN_TOKEN", help="unit token (sst_...); signs the report"),
    click.option("--token-file", type=click.Path(exists=True, dir_okay=False),
                 help="read the token from this file (keeps it out of the process list)"),
    click.option("--push", metavar="URL", help="POST to a collector (https://.../api/v1/reports)"),
    click.option("--spool", type=click.Path(file_okay=False), help="spool folder for undelivered reports"),
    click.option("--ca-bundle", type=click.Path(exists=True, dir_okay=False), help="CA bundle for --push"),
]


def common_options(fn):  # type: ignore[no-untyped-def]
    for option in reversed(_common):
        fn = option(fn)
    return fn


@click.group()
def agent() -> None:
    """Collect this PC's facts (HostReport secscan.host-report/1)."""


# The organisation's own KMS hosts: a KMS activation by one of them is genuine (Windows only).
_kms_allow = click.option("--kms-allow", "kms_allow", multiple=True, metavar="HOST", envvar="SECSCAN_KMS_ALLOW",
                          help="the organisation's KMS host (name, IP, or .domain); repeatable; "
                               "SECSCAN_KMS_ALLOW takes a space-separated list")


@agent.command()
@common_options
@click.option("--timeout", default=60.0, show_default=True, help="Windows: limit for the PowerShell capture (s)")
@_kms_allow
def run(out: str | None, unit: str | None, token: str | None, token_file: str | None, push: str | None,
        spool: str | None, ca_bundle: str | None, timeout: float, kms_allow: tuple[str, ...]) -> None:
    """Collect this machine's facts and write a HostReport."""
    token = _token_option(token, token_file, unit)
    if sys.platform == "win32":
        from secscan.agent.windows import collect as collect_windows

        report = collect_windows(timeout=timeout, kms_allow=kms_allow)
    elif sys.platform.startswith("linux"):
        from secscan.agent.linux import collect as collect_linux

        report = collect_linux()
    else:
        raise click.ClickException(f"agent run: platform {sys.platform} is not supported")
    _finish(report, out, unit, token, push, spool, ca_bundle)


@agent.command()
@click.argument("capture", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@common_options
@_kms_allow
def decode(capture: str, out: str | None, unit: str | None, token: str | None, token_file: str | None,
           push: str | None, spool: str | None, ca_bundle: str | None, kms_allow: tuple[str, ...]) -> None:
    """Decode a Windows capture (secscan.windows-capture/1, plain or a signed .secscan) into a HostReport."""
    from secscan.agent.windows import CaptureError, decode_capture

    token = _token_option(token, token_file, unit)
    raw = sys.stdin.buffer.read() if capture == "-" else Path(capture).read_bytes()
    if raw.startswith(ENVELOPE_MAGIC):
        raw = _opened(capture, raw, token)
    try:
        report = decode_capture(raw, kms_allow=kms_allow)
    except CaptureError as exc:
        raise click.ClickException(f"{capture}: {exc}") from exc
    _finish(report, out, unit, token, push, spool, ca_bundle)


def _opened(name: str, raw: bytes, token: str | None) -> bytes:
    """The capture inside a signed envelope (collect.ps1 -OutDir, a .secscan file), checked
    against --token when one is given (the collector always checks it)."""
    try:
        key_id, value, body = open_envelope(raw)
    except EnvelopeError as exc:
        raise click.ClickException(f"{name}: {exc}") from exc
    if token is None:
        click.echo(f"{name}: signed by key {key_id}; signature not checked here (give --token to check it)", err=True)
    elif parse_token(token)[0] != key_id or not check((body, value), signing_key(token)):
        raise click.ClickException(f"{name}: signature: does not match the capture with this --token "
                                   "(altered after signing, or another unit's token)")
    return body


@agent.command()
@click.argument("platform", type=click.Choice(["windows"]))
def script(platform: str) -> None:
    """Print the collection script (for PCs where nothing may be installed)."""
    from secscan.agent.windows import script_text

    click.echo(script_text(), nl=False)


@agent.command()
@click.argument("platform", type=click.Choice(["windows"]))
@click.option("--unit", required=True, help="unit id from org.yaml")
@click.option("--token-file", required=True, type=click.Path(exists=True, dir_okay=False),
              help="the unit's token (sst_...), as `secscan collector token` printed it")
@click.option("--collector", metavar="URL", help="the collector (https://host or https://host/api/v1/reports)")
@click.option("--share", metavar="PATH", help=r"a UNC folder the PCs write signed captures to "
              r"(\\server\secscan$\unit); with --collector, the fallback when the push fails")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="folder to write the kit to")
@click.option("--proxy", metavar="URL", help="HTTP proxy the PCs must use to reach the collector")
@click.option("--spool-max-files", default=60, show_default=True, help="captures kept waiting at most")
@click.option("--spool-max-mb", default=64, show_default=True, help="megabytes kept waiting at most")
@click.option("--force", is_flag=True, help="overwrite the files of an existing kit in --out")
def package(platform: str, unit: str, token_file: str, collector: str | None, share: str | None, out: str,
            proxy: str | None, spool_max_files: int, spool_max_mb: int, force: bool) -> None:
    """Write the zero-install kit for one unit's PCs: collect.ps1, its configuration and token,
    install.ps1 / uninstall.ps1 (Task Scheduler, as SYSTEM) and HUONG-DAN.txt."""
    from secscan.agent.windows.kit import KitError, build

    words = Path(token_file).read_text(encoding="utf-8", errors="replace").split()
    try:
        written = build(Path(out), unit=unit, token=words[0] if words else "", collector=collector, share=share,
                        proxy=proxy, max_files=spool_max_files, max_mb=spool_max_mb, force=force)
    except KitError as exc:
        error = click.ClickException(str(exc))
        error.exit_code = 2  # a usage error, in one line
        raise error from exc
    for path in written:
        click.echo(f"wrote {path}", err=True)
    click.echo(f"kit for unit {unit} in {out}: copy the folder to a PC and run install.ps1 as administrator "
               "(HUONG-DAN.txt says how, and how to deploy it by Group Policy)", err=True)
