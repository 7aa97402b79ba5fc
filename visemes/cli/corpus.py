"""``visemes align-corpus`` and the options and report every corpus command shares (the one runner behind
them, :mod:`visemes.pipeline.runner`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from visemes.alignment import get_aligner
from visemes.cli.align import SomeFailed, _acoustic_option, _backend_option, _backend_options, _beam_option
from visemes.cli.progress import RichProgress
from visemes.core.errors import InputError
from visemes.pipeline.corpus import REPORT_NAME
from visemes.pipeline.jobs import align_corpus as run_align_corpus

#: Options every corpus command shares (the one runner behind them).
jobs_option = click.option(
    "-j", "--jobs", type=click.IntRange(min=1), default=None,
    help="Local worker processes [default: what is fastest here: 1 (this process) up to 2 cores, else one per "
         "2 cores]. Each loads the aligner (and JAX compiles) once, so more workers pay off on long corpora.",
)
cluster_option = click.option(
    "--cluster", default=None, metavar="ADDRESS",
    help="Dask scheduler (tcp://host:port): run the files on its workers (pip install 'visemes[cluster]').",
)
follow_symlinks_option = click.option(
    "--follow-symlinks", is_flag=True,
    help="Read input files that are symbolic links to outside IN_DIR (refused by default).",
)


def echo_report(report: Any) -> None:
    """The run's summary, every flagged and every failed file (stderr) and where the full report is; exit 1
    on failures."""
    click.echo(report.summary(details=False))
    if report.outcomes:
        click.echo(f"report: {Path(report.out_dir) / REPORT_NAME}")
    for outcome in report.flagged:
        click.secho(f"  QA {outcome.rel}: {', '.join(outcome.qa_flags)}", fg="yellow", err=True)
    for outcome in report.failed:
        click.secho(f"  FAILED {outcome.rel}: {outcome.error_type}: {outcome.first_line}", fg="red", err=True)
    if report.failed:
        raise SomeFailed(f"{len(report.failed)} of {len(report.outcomes)} files failed (listed above); the others "
                          "are done. Fix them and run the same command again: finished files are skipped.")


@click.command("align-corpus")
@click.argument("in_dir", type=click.Path(file_okay=False, path_type=Path))
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--lang", default=None, metavar="CODE", help="Language of the .lab/.txt texts (G2P).")
@click.option("--ipa", is_flag=True, help="Transcripts hold space-separated IPA phones (' | ' or new line between words).")
@jobs_option
@cluster_option
@click.option("--overwrite", is_flag=True, help="Re-align files whose outputs exist (default: skip them).")
@click.option("--format", "formats", default="textgrid", show_default=True, metavar="LIST",
              help="Comma-separated outputs: textgrid, json (json keeps per-phone confidence).")
@_backend_option
@_acoustic_option
@_beam_option
@follow_symlinks_option
@click.option("--progress/--no-progress", default=True, show_default=True, help="Show a progress bar on stderr.")
def align_corpus(
    in_dir: Path, out_dir: Path, lang: str | None, ipa: bool, jobs: int | None, cluster: str | None, overwrite: bool,
    formats: str, backend: str, acoustic_model: str | None, beam: int | None, follow_symlinks: bool, progress: bool,
) -> None:
    """Align every <name>.wav|.flac|.ogg in IN_DIR (beside <name>.lab or .txt) into OUT_DIR.

    The built-in aligner adapts once on every file of the corpus (pooled). Files already aligned are
    skipped (resumable); a bad file is reported and the run goes on; the exit code is 1 when any file
    failed; OUT_DIR/corpus_report.json lists every file.
    """
    if not ipa and not lang:
        raise InputError("Give --lang CODE for text transcripts, or --ipa for IPA transcripts.")
    aligner = get_aligner(backend, **_backend_options(backend, acoustic_model, beam))
    with RichProgress(enabled=progress) as bar:
        report = run_align_corpus(in_dir, out_dir, aligner, lang=lang, ipa=ipa, formats=formats, jobs=jobs,
                                  cluster=cluster, overwrite=overwrite, follow_symlinks=follow_symlinks, progress=bar)
    echo_report(report)
