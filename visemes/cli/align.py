"""``visemes align`` and ``visemes eval-align``: thin layers over ``alignment`` (``align-corpus`` is in
:mod:`visemes.cli.corpus`, so that aligning one file does not import the corpus runner and its progress bar)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from visemes import alignment
from visemes.alignment.evaluate import evaluate_dirs
from visemes.alignment.transcripts import read_text_file
from visemes.core.atomic import atomic_write_text, check_writable
from visemes.core.errors import InputError
from visemes.core.textgrid import write_textgrid

_OUTPUT_SUFFIXES = {".textgrid": "textgrid", ".json": "json"}


class SomeFailed(click.ClickException):
    """Exit code 1 (not 2, which means bad usage or input) when part of a batch (files, outputs) failed."""

    exit_code = 1


def _backend_options(backend: str, acoustic_model: str | None, beam: int | None) -> dict[str, Any]:
    if backend == "mfa":
        options: dict[str, Any] = {"acoustic_model": acoustic_model}
        if beam is not None:
            options["beam"] = beam
        return options
    if acoustic_model or beam is not None:
        raise InputError("--acoustic-model and --beam apply to --backend mfa only.")
    return {}


_backend_option = click.option(
    "--backend", default="builtin", show_default=True, metavar="NAME",
    help="Aligner backend: builtin (universal, no model download) or mfa (Montreal Forced Aligner, if installed).",
)
_acoustic_option = click.option(
    "--acoustic-model", default=None, metavar="NAME|PATH",
    help="MFA acoustic model (installed name such as english_mfa, or a path); with --backend mfa.",
)
_beam_option = click.option("--beam", type=click.IntRange(min=1), default=None, help="MFA beam width.")


@click.command("align")
@click.argument("audio", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--text", default=None, help="The words spoken (needs --lang).")
@click.option("--text-file", default=None, type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              help="A UTF-8 file with the words spoken (- reads standard input).")
@click.option("--lang", default=None, metavar="CODE", help="Language code of the text, e.g. en, de, zh.")
@click.option("--phones", default=None, metavar="IPA",
              help='Space-separated IPA phones instead of text, " | " between words, e.g. "h ə | l oʊ".')
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="OUT.TextGrid or OUT.json")
@_backend_option
@_acoustic_option
@_beam_option
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")
def align(
    audio: Path, text: str | None, text_file: Path | None, lang: str | None, phones: str | None, output: Path,
    backend: str, acoustic_model: str | None, beam: int | None, overwrite: bool,
) -> None:
    """Align AUDIO (wav/flac/ogg/mp3, or a video such as mp4/mov: its audio track) to --text/--text-file (with
    --lang) or to --phones; write a TextGrid or JSON."""
    if text is not None and text_file is not None:
        raise InputError("Give --text or --text-file, not both.")
    if text_file is not None:
        text = read_text_file(text_file)

    fmt = _OUTPUT_SUFFIXES.get(output.suffix.lower())
    if fmt is None:
        raise InputError(f"Unknown output type {output.suffix or '(none)'!r}; name the output OUT.TextGrid or OUT.json.")
    if (text is None) == (phones is None):
        raise InputError("Give either --text TEXT with --lang CODE, or --phones \"IPA IPA ...\".")
    if text is not None and not lang:
        raise InputError("--text needs --lang CODE (run `visemes langs` to list the languages).")
    check_writable(output, overwrite)  # fail before the work, not after it
    result = alignment.align(
        audio, text=text, lang=lang, phones=phones, backend=backend,
        backend_options=_backend_options(backend, acoustic_model, beam),
    )
    if fmt == "textgrid":
        write_textgrid(result, output, overwrite=overwrite)
    else:
        atomic_write_text(output, result.to_json() + "\n", overwrite=overwrite)
    words = len(result.words) if result.has_tier("words") else 0
    confidence = result.meta.get("confidence")
    extra = f", confidence {confidence:.2f}" if isinstance(confidence, (int, float)) else ""
    click.echo(f"{output}: {words} words, {len(result.phones)} phones over {result.duration:.2f} s{extra}")
    if result.meta.get("mismatch"):
        click.echo("warning: the transcript probably does not match the audio; check it.", err=True)


@click.command("eval-align")
@click.argument("pred_dir", type=click.Path(file_okay=False, path_type=Path))
@click.argument("gold_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--lang-from", type=click.Choice(["subdir", "prefix", "none"]), default="subdir", show_default=True,
              help="Language of a file: its first sub-folder, its name up to the first - or _, or none.")
@click.option("--strict-labels", is_flag=True,
              help="Score only files whose phones match gold exactly (no substitution, insertion or deletion).")
@click.option("--gold-phones-tier", default=None, metavar="NAME",
              help="Gold tier to score as phones (case-insensitive; default phones/phone).")
@click.option("--gold-words-tier", default=None, metavar="NAME",
              help="Gold tier to score as words (case-insensitive; default words/word).")
@click.option("--max-edits", "max_edit_share", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              metavar="SHARE", help="Skip files needing more phone edits than this share of their gold phones.")
def eval_align(pred_dir: Path, gold_dir: Path, as_json: bool, lang_from: str, strict_labels: bool,
               gold_phones_tier: str | None, gold_words_tier: str | None, max_edit_share: float) -> None:
    """Phone- and word-boundary errors of PRED_DIR's alignments against GOLD_DIR's TextGrids (same relative
    paths). Phones are matched by edit distance; substitutions, insertions and deletions are reported."""

    report = evaluate_dirs(pred_dir, gold_dir, lang_from=lang_from, strict_labels=strict_labels,  # type: ignore[arg-type]
                           gold_phones_tier=gold_phones_tier, gold_words_tier=gold_words_tier,
                           max_edit_share=max_edit_share)
    click.echo(report.to_json() if as_json else report.table())
    if not report.files:
        raise SomeFailed("no file could be scored.")
