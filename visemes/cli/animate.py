"""``visemes animate``, ``visemes animate-corpus`` and ``visemes demo``: thin layers over
:mod:`visemes.pipeline.animator`, :mod:`visemes.pipeline.runner` and :mod:`visemes.cli.demo`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from visemes import models
from visemes.alignment.transcripts import read_text_file
from visemes.cli.align import SomeFailed
from visemes.cli.corpus import (
    cluster_option,
    echo_report,
    follow_symlinks_option,
    jobs_option,
)
from visemes.cli.demo import DEMO_LANGS, run_demo
from visemes.cli.progress import RichProgress
from visemes.core.atomic import check_writable
from visemes.core.errors import InputError, PartialExportError
from visemes.core.vocabulary import VISEME_SETS
from visemes.formats import DEFAULT_FORMATS, FORMAT_ALIASES, FORMATS, ExportOptions, expand_formats
from visemes.lang_packs.notation import DISPLAY
from visemes.pipeline.animator import animate as run
from visemes.pipeline.animator import timing_only
from visemes.pipeline.jobs import AnimateOptions
from visemes.pipeline.jobs import animate_corpus as run_animate_corpus

#: what a bare --model stands for: the shipped weights
SHIPPED_MODEL = "<shipped>"


def print_summary(summary: dict[str, Any], written: list[Path]) -> None:
    conf = summary.get("confidence")
    click.echo(
        f"{summary['name']}: {summary['lang']}, {summary['duration']:.2f} s, {summary['frames']} frames at "
        f"{summary['fps']:g} fps ({summary['timing']}, curves {summary['curves']})"
    )
    low = summary.get("low_confidence_share")
    click.echo(
        f"  {summary['words']} words, {summary['phones']} phones, {summary['visemes']} visemes ({summary['viseme_set']})"
        + (f", confidence {conf:.2f}" if isinstance(conf, (int, float)) else "")
        + (f", low-confidence phones {low:.0%}" if isinstance(low, (int, float)) else "")
    )
    if summary["qa_flags"]:
        click.secho(f"  QA flags: {', '.join(summary['qa_flags'])}", fg="yellow", err=True)
        for note in summary.get("qa_notes", ()):
            click.secho(f"    - {note}", fg="yellow", err=True)
    else:
        click.echo("  QA: no flags")
    for path in written:
        click.echo(f"  wrote {path}")


_model_options = [
    click.option("--fps", type=float, default=30.0, show_default=True, help="Frame rate of the curves."),
    click.option("--viseme-set", type=click.Choice(VISEME_SETS), default="oculus",
                 show_default=True, help="Viseme classes of the visemes tier."),
    click.option("--adapter", default=None, metavar="NAME|PATH", help="Model adapter (e.g. a speaker/style LoRA)."),
    click.option("--model", "model_path", default=None, is_flag=False, flag_value=SHIPPED_MODEL, metavar="[PATH]",
                 help="Use the neural model instead of the coarticulation model (the default, closer to real "
                      "speakers: docs/benchmarks.md); PATH: other weights than the shipped ones. --adapter implies it."),
    click.option("--no-model", is_flag=True, help="The coarticulation model (the default; kept for old scripts)."),
    click.option("--format", "formats", default=",".join(DEFAULT_FORMATS), show_default=True,
                 help=f"Comma-separated export formats ({', '.join(FORMATS)}; also {', '.join(FORMAT_ALIASES)}) "
                      "or 'all'."),
    click.option("--overwrite", is_flag=True, help="Replace existing outputs."),
]


def _use_model(model_path: str | None, adapter: str | None, no_model: bool) -> tuple[bool, str | None]:
    """(use the neural model?, weights path or None for the shipped ones) from --model/--adapter/--no-model."""
    wanted = model_path is not None or adapter is not None
    if wanted and no_model:
        raise InputError("--no-model contradicts --model/--adapter (the neural model); give one of them.")
    return wanted, None if model_path in (None, SHIPPED_MODEL) else model_path


def _with(options: list) -> Any:
    def deco(fn: Any) -> Any:
        for opt in reversed(options):
            fn = opt(fn)
        return fn
    return deco


@click.command("animate")
@click.argument("audio", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--text", default=None, help="The words spoken.")
@click.option("--text-file", default=None, type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              help="A UTF-8 file with the words spoken (- reads standard input).")
@click.option("--phones", default=None, metavar="PHONES",
              help='Phones instead of text (IPA, ARPAbet, SAMPA or X-SAMPA; see --notation), " | " between words.')
@click.option("--alignment", "timings", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Given timings (.TextGrid or alignment .json): skips alignment.")
@click.option("--notation", type=click.Choice(["auto", "ipa", "arpabet", "sampa", "x-sampa"]), default="auto",
              show_default=True, help="Notation of the phone labels in --alignment or --phones (auto: detected, "
                                      "and the choice is printed).")
@click.option("--phones-tier", default=None, metavar="NAME",
              help="The --alignment tier that holds the phones, when it is not called phones/phone.")
@click.option("--lang", default=None, metavar="CODE", help="Language code, e.g. en-US, cmn, ar, hi (`visemes langs`).")
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option("--stem", default=None, help="Output file name stem (default: the audio's name).")
@click.option("--plot", "plot", is_flag=True, help="Also write a timeline plot (<stem>.png).")
@click.option("--preview", is_flag=True, help="Also write a 2D mouth preview video (<stem>.mp4).")
@click.option("--compare-lang", default=None, metavar="CODE",
              help="Also write <stem>.compare.mp4: this result beside the same speech animated as language CODE.")
@click.option("--compare-adapter", default=None, metavar="NAME|PATH",
              help="Also write <stem>.compare.mp4: this result beside the same timings with another adapter.")
@click.option("--min-cue", "min_cue_ms", type=click.FloatRange(0, 1000), default=0.0, show_default=True, metavar="MS",
              help="Shortest Rhubarb mouth cue and shortest Oculus viseme hold (0 = off; Rhubarb itself uses 70).")
@click.option("--extended-shapes", default="GHX", show_default=True, metavar="GHX",
              help="Rhubarb extended shapes to use (like rhubarb --extendedShapes; '' = basic A-F only).")
@click.option("--jaw-intensity", type=click.FloatRange(0, 2), default=None, metavar="X",
              help="Coarticulation model: scale of the jaw's opening (1 = the pack's targets; default: the language's).")
@click.option("--lip-intensity", type=click.FloatRange(0, 2), default=None, metavar="X",
              help="Coarticulation model: scale of lip rounding and spreading (default: the language's).")
@click.option("--min-hold", "min_hold_ms", type=click.FloatRange(0, 200), default=None, metavar="MS",
              help="Coarticulation model: shortest lip contact of a /p b m/ in ms (default: the language's, 30).")
@click.option("--anticipation", "anticipation_ms", type=click.FloatRange(50, 1000), default=None, metavar="MS",
              help="Coarticulation model: how far ahead lip rounding starts, ms (default: the language's; en 300).")
@_with(_model_options)
def animate(audio: Path | None, text: str | None, text_file: Path | None, phones: str | None, timings: Path | None,
            notation: str, phones_tier: str | None, lang: str | None, out_dir: Path, stem: str | None, plot: bool,
            preview: bool, compare_lang: str | None, compare_adapter: str | None, min_cue_ms: float,
            extended_shapes: str, jaw_intensity: float | None, lip_intensity: float | None,
            min_hold_ms: float | None, anticipation_ms: float | None, fps: float, viseme_set: str,
            adapter: str | None, model_path: str | None, no_model: bool, formats: str, overwrite: bool) -> None:
    """Animate AUDIO: align it to --text/--text-file/--phones (or take --alignment timings), map to visemes,
    predict per-frame mouth curves and write the chosen formats plus a summary into OUT.

    Without AUDIO, --text is timed by espeak-ng speech synthesis (text-only animation). AUDIO alone (no
    --text/--phones/--alignment; --lang optional) is audio-only mode: phone classes recognised from the audio."""
    if text is not None and text_file is not None:
        raise InputError("Give --text or --text-file, not both.")
    if compare_lang and compare_adapter:
        raise InputError("Compare with one thing at a time: --compare-lang or --compare-adapter.")
    if text_file is not None:
        text = read_text_file(text_file)
    if text is None and phones is None and timings is None and audio is None:
        raise InputError("Give AUDIO (alone: audio-only mode) or what is said: --text TEXT, --text-file FILE, "
                         "--phones IPA, or --alignment FILE.")
    if not lang and timings is None and (text is not None or phones is not None):
        raise InputError("Give the language with --lang CODE (e.g. en-US, cmn, ar, hi); `visemes langs` lists them.")
    names = expand_formats(formats, has_audio=True, viseme_set=viseme_set)
    export_options = ExportOptions(min_cue=min_cue_ms / 1000.0, extended_shapes=extended_shapes)
    if phones_tier is not None and timings is None:
        raise InputError("--phones-tier names a tier of the --alignment file; give --alignment FILE too.")
    # comparing adapters compares two runs of the neural model
    use_model, model_path = _use_model(model_path, adapter or compare_adapter, no_model)
    # the coarticulation model's controls (animate() refuses them with the neural model)
    controls = {"jaw_intensity": jaw_intensity, "lip_intensity": lip_intensity,
                "min_hold": None if min_hold_ms is None else min_hold_ms / 1000.0,
                "anticipation": None if anticipation_ms is None else anticipation_ms / 1000.0}
    result = run(audio, text=text, phones=phones, alignment=timings, lang=lang, fps=fps, viseme_set=viseme_set,
                 use_model=use_model, model=model_path, adapter=adapter, notation=notation, phones_tier=phones_tier,
                 **controls)
    read_as = result.alignment.meta.get("phone_notation")
    if read_as:
        how = "detected; --notation to choose" if notation == "auto" else "--notation"
        click.echo(f"phone labels read as {DISPLAY.get(read_as, read_as)} ({how})", err=True)
    if result.audio is None:
        names = [n for n in names if n != "wav"]
    protect = [p for p in (audio, text_file, timings) if p is not None]
    compare_path = Path(out_dir) / f"{stem or result.name}.compare.mp4"
    if compare_lang or compare_adapter:
        check_writable(compare_path, overwrite)  # before the second animation, not after
    try:
        written = result.save(out_dir, names, stem=stem, overwrite=overwrite, plot=plot, preview=preview,
                              protect=protect, export_options=export_options)
    except PartialExportError as exc:  # the other outputs are written: list them, then fail (exit 1)
        print_summary(result.summary(exc.written), exc.written)
        raise SomeFailed(str(exc)) from None
    if compare_lang or compare_adapter:
        if compare_lang:
            # The same speech as another language: its pack's transcript, aligned to the same audio.
            other = run(result.audio, result.sample_rate, text=text, phones=phones,
                        alignment=None if (text or phones) else timings, lang=compare_lang, fps=fps,
                        viseme_set=viseme_set, use_model=use_model, model=model_path, adapter=adapter,
                        notation=notation, phones_tier=None if (text or phones) else phones_tier, **controls)
        else:
            other = run(result.audio, result.sample_rate, alignment=timing_only(result.alignment), lang=lang or result.lang,
                        fps=fps, viseme_set=viseme_set, use_model=True, model=model_path, adapter=compare_adapter)
        written.append(result.preview(compare_path, overwrite=overwrite, others=[(other.panel_title(), other)]))
    print_summary(result.summary(written), written)


@click.command("animate-corpus")
@click.argument("in_dir", type=click.Path(file_okay=False, path_type=Path))
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--lang", required=True, metavar="CODE", help="Language of every file.")
@jobs_option
@cluster_option
@follow_symlinks_option
@click.option("--quiet", is_flag=True, help="No progress bar.")
@_with(_model_options)
def animate_corpus(in_dir: Path, out_dir: Path, lang: str, jobs: int | None, cluster: str | None,
                   follow_symlinks: bool, quiet: bool, fps: float, viseme_set: str, adapter: str | None,
                   model_path: str | None, no_model: bool, formats: str, overwrite: bool) -> None:
    """Animate every audio file in IN_DIR (transcript beside it: NAME.txt/.lab, or NAME.TextGrid timings)
    into OUT_DIR/NAME/. Files are aligned as align-corpus aligns them (adapted once on the whole corpus).
    Resumable: finished files are skipped. Exits 1 if any file failed; the report
    (OUT_DIR/corpus_report.json) lists every file, with the reason for each failure."""
    use_model, model_path = _use_model(model_path, adapter, no_model)
    options = AnimateOptions(lang=lang, fps=fps, viseme_set=viseme_set,
                             formats=tuple(expand_formats(formats, has_audio=True, viseme_set=viseme_set)),
                             adapter=adapter, use_model=use_model, model=model_path)
    if use_model:
        models.check_model(model_path, adapter)  # bad weights fail once, here, not once per file
    with RichProgress(enabled=not quiet) as bar:
        report = run_animate_corpus(in_dir, out_dir, options, jobs=jobs, cluster=cluster, overwrite=overwrite,
                                    follow_symlinks=follow_symlinks, progress=bar)
    echo_report(report)


@click.command("demo")
@click.option("-o", "--out", "out_dir", default="visemes-demo", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option("--lang", "langs", multiple=True, metavar="CODE",
              help="Languages to run (repeatable; default: cmn, ar, hi, en-US).")
@click.option("--no-model", is_flag=True, help="Coarticulation model instead of the neural one.")
@click.option("--no-preview", is_flag=True, help="Skip the preview videos (faster).")
@click.option("--overwrite", is_flag=True, help="Replace an earlier demo's files.")
def demo(out_dir: Path, langs: tuple[str, ...], no_model: bool, no_preview: bool, overwrite: bool) -> None:
    """Offline demo, no input needed: synthesize speech in Mandarin, Arabic, Hindi and English, align it,
    animate it, and write every format, a timeline plot and a preview video per language."""
    report = run_demo(out_dir, langs=langs or DEMO_LANGS, use_model=not no_model, preview=not no_preview,
                      overwrite=overwrite, echo=click.echo)
    click.echo(f"demo finished in {report.seconds:.1f} s: {len(report.files)} files in {report.out_dir}")
