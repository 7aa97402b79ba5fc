"""``visemes text2visemes``: text -> timed visemes + mouth curves, no audio needed (thin over visemes.pipeline.text)."""

from __future__ import annotations

from pathlib import Path

import click

from visemes import formats as exports
from visemes.alignment.transcripts import read_text_file
from visemes.core.atomic import check_writable
from visemes.core.errors import InputError
from visemes.core.vocabulary import VISEME_SETS
from visemes.formats import expand_formats
from visemes.pipeline.text import text_to_visemes


@click.command("text2visemes")
@click.argument("text")
@click.option("--lang", "-l", required=True, metavar="CODE",
              help="Language of the text, e.g. hi, cmn, ar, ar-EG (`visemes langs` lists them; any espeak-ng voice works).")
@click.option("--fps", type=click.FloatRange(1, 1000), default=30.0, show_default=True,
              help="Frame rate of the per-frame curves (24, 25, 30, 50, 60 ...).")
@click.option("--viseme-set", type=click.Choice(VISEME_SETS), default="oculus", show_default=True,
              help="Viseme classes of the visemes tier and the per-frame viseme weights.")
@click.option("--rate", type=click.IntRange(80, 450), default=175, show_default=True,
              help="Speaking rate in words per minute (espeak-ng's scale): sets the phone durations.")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="A folder (files are named <stem><suffix>) or one file whose suffix names its format "
                   "(out.TextGrid, out.rhubarb.tsv, out.json ...).")
@click.option("--format", "-f", "formats", default=None, metavar="LIST",
              help="Comma-separated formats (or 'all'; aliases as in `visemes animate`: rhubarb = rhubarb-tsv, "
                   "praat = textgrid, arkit = livelink); default: json for a folder, the suffix's format for a file.")
@click.option("--stem", default="visemes", show_default=True, help="File name stem inside an output folder.")
@click.option("--overwrite", is_flag=True, help="Replace existing output files (otherwise nothing is written).")
def text2visemes(text: str, lang: str, fps: float, viseme_set: str, rate: int, output: Path, formats: str | None,
                 stem: str, overwrite: bool) -> None:
    """Turn TEXT into timed words, IPA phones and visemes, plus per-frame mouth curves, and write them.

    Timing comes from espeak-ng speaking the text at --rate, so no recording is needed; the curves come
    from the coarticulation model. TEXT "-" reads the text from standard input.

    \b
    Formats (name: suffix):
      json: .json            csv: .csv                textgrid: .TextGrid
      rhubarb-tsv: .rhubarb.tsv   rhubarb-json: .rhubarb.json   rhubarb-xml: .rhubarb.xml
      moho: .dat             livelink: .livelink.csv  audacity: .labels.txt
      oculus: .oculus.csv    wav: .wav (the synthetic speech)
      azure-visemes: .azure-visemes.json   azure-blend: .azure-blend.json

    \b
    Examples:
      visemes text2visemes "नमस्ते दुनिया" --lang hi -o out/ --format json,csv,textgrid
      visemes text2visemes "你好" --lang cmn --viseme-set rhubarb -o hello.rhubarb.tsv
    """
    if text == "-":
        text = read_text_file("-", empty_hint="pipe the words to speak into it")
    file_format = exports.format_for_path(output) if not output.is_dir() else None
    if file_format is None and not output.is_dir() and output.suffix:
        suffixes = ", ".join(f.suffix for f in exports.FORMATS.values())
        raise InputError(
            f"{output.name} does not end with a known format suffix ({suffixes}); give one, or a folder name."
        )
    if file_format is not None:
        chosen = exports.parse_formats(expand_formats(formats, viseme_set=viseme_set)) if formats else [file_format]
        if len(chosen) != 1:
            raise InputError(f"{output} is one file but {len(chosen)} formats were asked for; give a folder for several.")
        check_writable(output, overwrite)  # fail before the work, not after it
    else:
        chosen = exports.parse_formats(expand_formats(formats or "json", viseme_set=viseme_set))
        for fmt in chosen:
            check_writable(fmt.path_for(output, stem), overwrite)
    result = text_to_visemes(text, lang, fps=fps, viseme_set=viseme_set, rate=rate)
    if file_format is not None:
        written = [exports.write_one(result, output, chosen[0].name, overwrite=overwrite)]
    else:
        written = result.save(output, [f.name for f in chosen], stem=stem, overwrite=overwrite, summary=False)
    a = result.alignment
    click.echo(
        f"{len(a.words)} words, {len(a.phones)} phones, {len(a.visemes)} {viseme_set} visemes over "
        f"{a.duration:.2f} s; {result.animation.n_frames} frames at {fps:g} fps ({result.alignment.lang})"
    )
    for path in written:
        click.echo(f"  {path}")

