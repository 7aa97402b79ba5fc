"""Entry point of the ``visemes`` command.

Sub-commands live in their own modules and are imported only when invoked (click's lazy-group
pattern), so ``visemes --help`` and ``visemes langs`` never pay for importing JAX.
"""

from __future__ import annotations

import importlib
import sys

import click

from visemes import __version__
from visemes.errors import VisemesError

# command name -> "module:click command object"
COMMANDS: dict[str, str] = {
    "langs": "visemes.cli.packs:langs",
    "phonemize": "visemes.cli.packs:phonemize",
    "text2visemes": "visemes.cli.text:text2visemes",
    "plot": "visemes.cli.plot:plot",
    "align": "visemes.cli.align:align",
    "align-corpus": "visemes.cli.align:align_corpus",
    "eval-align": "visemes.cli.align:eval_align",
    "train": "visemes.cli.model:train",
    "finetune": "visemes.cli.model:finetune",
    "animate": "visemes.cli.animate:animate",
    "animate-corpus": "visemes.cli.animate:animate_corpus",
    "demo": "visemes.cli.animate:demo",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="visemes")
def cli() -> None:
    """Multilingual visemes: language packs, forced alignment and mouth animation, offline."""


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; library errors become one clear line on stderr and exit code 2."""
    try:
        cli.main(args=argv, prog_name="visemes", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except VisemesError as exc:
        click.echo(f"error: {exc}", err=True)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
