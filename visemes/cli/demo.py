"""``visemes demo``: the whole pipeline on synthetic speech in four scripts, offline, no input needed.

For each language espeak-ng speaks a sentence (``visemes.speech.synthesis.speak``); the built-in aligner then
aligns that audio to the sentence exactly as it would a user's recording (so the demo exercises G2P,
alignment, viseme mapping, the curve model, every exporter, the plot and the preview), and the aligner's
boundaries are compared with espeak-ng's own phone times as a sanity check.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from visemes.core.errors import InputError
from visemes.formats import expand_formats
from visemes.pipeline.animator import animate, timing_only
from visemes.speech.synthesis import speak

DEMO_LANGS: tuple[str, ...] = ("cmn", "ar", "hi", "en-US")
DEMO_SENTENCES: dict[str, str] = {
    "cmn": "你好，我们今天去公园散步吧。",
    "ar": "مرحبا، كيف حالك اليوم؟",
    "hi": "नमस्ते, आप कैसे हैं?",
    "en-US": "Hello! The quick brown fox jumps over the lazy dog.",
}


@dataclass(frozen=True)
class DemoRow:
    lang: str
    text: str
    duration: float
    phones: int
    confidence: float | None
    boundary_error_ms: float | None
    flags: tuple[str, ...]
    curves: str


@dataclass(frozen=True)
class DemoReport:
    out_dir: Path
    rows: tuple[DemoRow, ...]
    files: tuple[Path, ...]
    seconds: float


def boundary_error_ms(aligned, gold) -> float | None:
    """Mean absolute difference of phone starts and ends (ms) when both tiers hold the same phones."""
    a, g = list(aligned.phones), list(gold.phones)
    if len(a) != len(g) or any(x.label != y.label for x, y in zip(a, g)) or not a:
        return None
    diffs = [abs(x.start - y.start) for x, y in zip(a, g)] + [abs(x.end - y.end) for x, y in zip(a, g)]
    return float(np.mean(diffs) * 1000.0)


def run_demo(
    out_dir: str | Path = "visemes-demo",
    *,
    langs: Sequence[str] = DEMO_LANGS,
    use_model: bool = True,
    preview: bool = True,
    plot: bool = True,
    overwrite: bool = False,
    sentences: dict[str, str] | None = None,
    echo: Callable[[str], None] = print,
) -> DemoReport:
    """Run the demo into ``out_dir/<lang>/``; returns what was made (and echoes progress)."""
    start = time.perf_counter()
    out = Path(out_dir)
    texts = {**DEMO_SENTENCES, **(sentences or {})}
    formats = expand_formats("all", has_audio=True)
    rows, files = [], []
    for lang in langs:
        text = texts.get(lang)
        if text is None:
            raise InputError(f"The demo has no sentence for {lang!r}; it knows {', '.join(texts)}.")
        t0 = time.perf_counter()
        spoken = speak(text, lang)
        # Align the synthetic audio like a user's recording (espeak's own times are the reference).
        result = animate(spoken.audio, spoken.sample_rate, text=text, lang=lang, use_model=use_model, name="visemes")
        folder = out / lang
        written = result.save(folder, formats, stem="visemes", overwrite=overwrite, plot=plot, preview=preview)
        if preview and use_model:
            # Side by side on the same audio and timings: the neural model vs the coarticulation model.
            plain = animate(spoken.audio, spoken.sample_rate, alignment=timing_only(result.alignment), lang=lang,
                            use_model=False)
            written.append(result.preview(folder / "compare.mp4", overwrite=overwrite, title=f"{lang} model",
                                          others=[(f"{lang} coarticulation", plain)]))
        err = boundary_error_ms(result.alignment, spoken.alignment)
        row = DemoRow(lang, text, result.duration, len(result.phones), result.qa.get("confidence"), err,
                      tuple(result.qa_flags), result.animation.source)
        rows.append(row)
        files.extend(written)
        conf = f"{row.confidence:.2f}" if row.confidence is not None else "-"
        berr = f"{err:.0f} ms" if err is not None else "-"
        echo(f"{lang:6s} {row.duration:5.2f} s  {row.phones:3d} phones  confidence {conf}  "
             f"aligner vs espeak timing {berr}  QA {','.join(row.flags) or 'ok'}  "
             f"({time.perf_counter() - t0:.1f} s) -> {folder}/")
    for lang in langs:
        names = sorted(p.name for p in files if p.parent == out / lang)
        echo(f"  {out / lang}/: {', '.join(names)}")
    return DemoReport(out, tuple(rows), tuple(files), time.perf_counter() - start)
