"""Entry point of the ``visemes`` command.

Sub-commands live in their own modules and are imported only when invoked (click's lazy-group
pattern), so ``visemes --help`` and ``visemes langs`` never pay for importing JAX.
"""

from __future__ import annotations

import importlib
import sys

import click

from visemes import __version__
from visemes.core.errors import VisemesError
from visemes.core.jitcache import enable_default_compile_cache

# command name -> ("module:click command object", one-line help shown by `visemes --help`).
# The help lines live here so that listing commands imports none of them (some pull in JAX).
COMMANDS: dict[str, tuple[str, str]] = {
    "langs": ("visemes.cli.packs:langs", "List the language packs (code, name, G2P backend, phones, coverage)."),
    "phonemize": ("visemes.cli.packs:phonemize", "Turn text into IPA phones with a language pack."),
    "text2visemes": ("visemes.cli.text:text2visemes", "Text only: time phones with espeak-ng and write visemes/curves."),
    "plot": ("visemes.cli.plot:plot", "Draw a timeline PNG: tiers, waveform and mouth curves."),
    "align": ("visemes.cli.align:align", "Align one audio file to its transcript (text or IPA phones)."),
    "align-corpus": ("visemes.cli.corpus:align_corpus", "Align a folder of audio + .lab/.txt transcripts, in parallel."),
    "eval-align": ("visemes.cli.align:eval_align", "Score predicted TextGrids against gold boundaries."),
    "train": ("visemes.cli.model:train", "Train the viseme model (teacher data or motion capture)."),
    "finetune": ("visemes.cli.model:finetune", "Train a LoRA dialect/speaker adapter on top of the base model."),
    "animate": ("visemes.cli.animate:animate", "Audio + transcript -> aligned visemes and per-frame mouth curves."),
    "animate-corpus": ("visemes.cli.animate:animate_corpus", "Animate a folder of audio files (local cores or a Dask cluster)."),
    "demo": ("visemes.cli.animate:demo", "Run the whole pipeline offline on built-in examples (cmn, ar, hi, en-US)."),
    "export-model": ("visemes.cli.export_model:export_model", "Export the neural model as ONNX (optionally int8, gated) or StableHLO."),
    "live": ("visemes.cli.live:live", "Live JSON-line mouth frames from TTS timing events, a WAV in real time or a microphone."),
    "serve": ("visemes.cli.serve:serve", "HTTP job service: API, signed webhooks, web page (pip install 'visemes[service]')."),
}

#: Commands that compile JAX programs (aligner, model): they read and fill the persistent compile cache
#: in the user's cache folder (VISEMES_COMPILE_CACHE=0 turns it off; a later run skips the compiles).
JIT_COMMANDS = frozenset({"align", "align-corpus", "animate", "animate-corpus", "demo"})


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        entry = COMMANDS.get(name)
        if entry is None:
            return None
        module, attr = entry[0].split(":")
        if name in JIT_COMMANDS:
            enable_default_compile_cache()  # before the command imports JAX (environment only, no import)
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="visemes")
def cli() -> None:
    """Multilingual visemes: language packs, forced alignment and mouth animation, offline."""


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; library errors become one clear line on stderr and exit code 2."""
    try:
        # with standalone_mode=False click returns ctx.exit()'s code (or the command's return value)
        rc = cli.main(args=argv, prog_name="visemes", standalone_mode=False)
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
    return rc if isinstance(rc, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
