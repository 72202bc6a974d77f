"""``secscan demo``: the whole flow on a synthetic district (secscan/demo/), which runs the stages'
own commands through ``run_command``, handed in here: the demo never imports the wiring."""

from __future__ import annotations

import os

import click


def run_command(args: list[str], env: dict[str, str]) -> None:
    """Run one secscan command in-process, as the user would type it."""
    from secscan.cli import cli

    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        cli.main(args, prog_name="secscan", standalone_mode=False)
    except click.ClickException as exc:
        raise click.ClickException(f"secscan {' '.join(args[:2])}: {exc.format_message()}") from exc
    except SystemExit as exc:  # a command that exits non-zero (e.g. import with rejections)
        if exc.code not in (0, None):
            raise click.ClickException(f"secscan {' '.join(args[:2])} exited {exc.code}") from exc
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@click.command()
@click.option("--out", "out_dir", default="secscan-demo", show_default=True, type=click.Path(file_okay=False),
              help="folder for everything the demo writes")
@click.option("--seed", default=2023, show_default=True, help="the synthetic fleet's seed (deterministic)")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--no-scan", is_flag=True, help="skip the network-namespace LAN scan")
@click.option("--era", type=click.Choice(["2023", "2025"]), default="2023", show_default=True,
              help="2023: a district (UBND huyện Hạ Hòa); 2025: a province's communes under the 2026 regime")
def demo(out_dir: str, seed: int, lang: str, no_scan: bool, era: str) -> None:
    """Run the whole flow on a synthetic district (--era 2023) or a province's communes (--era 2025)."""
    from secscan.demo import run

    run(out_dir, seed, lang, no_scan, secscan=run_command, era_name=era)
