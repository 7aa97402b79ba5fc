"""The Python front of the text-only commands (mirrors ``visemes phonemize`` and ``visemes text2visemes``).

>>> from visemes import text_to_visemes                                  # doctest: +SKIP
>>> result = text_to_visemes("नमस्ते", "hi", fps=30, viseme_set="rhubarb")  # doctest: +SKIP
>>> result.alignment.visemes.labels                                      # doctest: +SKIP
>>> result.save("out", ["json", "rhubarb-tsv", "textgrid"])              # doctest: +SKIP

Timing comes from espeak-ng speaking the text (``visemes.speech.synthesis.speak``): the phones are exactly the
language pack's transcript and their durations are the synthesizer's. The mouth curves come from the
coarticulation model (``visemes.mouth.coarticulation.animate_phones``). The synthetic speech is kept, so a
result can be saved as WAV and previewed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from visemes.core.curves import MouthAnimation, check_fps
from visemes.core.errors import InputError, TranscriptError
from visemes.core.timeline import Alignment, Transcript
from visemes.core.vocabulary import check_set
from visemes.formats import write_all
from visemes.formats.plot import plot_timeline
from visemes.lang_packs import LanguagePack
from visemes.lang_packs import load as load_pack
from visemes.mouth.coarticulation import animate_phones
from visemes.mouth.visemesets import viseme_tier
from visemes.speech.synthesis import speak_with_pack

DEFAULT_FPS = 30.0
DEFAULT_RATE = 175  # espeak-ng's default speaking rate, words per minute
RATE_RANGE = (80, 450)  # what espeak-ng accepts


def phonemize(text: str, lang: str) -> Transcript:
    """Words of ``text`` with their normalized IPA phones in language ``lang`` (a BCP-47 code)."""
    return load_pack(lang).phonemize(text)


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


@dataclass(frozen=True, eq=False)
class TextVisemes:
    """Result of :func:`text_to_visemes`: timed words/phones/visemes, mouth curves and the synthetic speech."""

    text: str
    alignment: Alignment = field(repr=False)
    animation: MouthAnimation = field(repr=False)
    audio: np.ndarray = field(repr=False)
    sample_rate: int
    pack: LanguagePack | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        a = self.alignment
        return (
            f"TextVisemes(text={_short(self.text)!r}, lang={a.lang!r}, viseme_set={self.viseme_set!r}, "
            f"words={len(a.words)}, phones={len(a.phones)}, duration={a.duration:.3f}s, "
            f"frames={self.animation.n_frames}@{self.fps:g}fps)"
        )

    @property
    def lang(self) -> str | None:
        return self.alignment.lang

    @property
    def viseme_set(self) -> str | None:
        return self.alignment.meta.get("viseme_set")

    @property
    def fps(self) -> float:
        return self.animation.fps

    @property
    def duration(self) -> float:
        return self.alignment.duration

    def save(
        self,
        out_dir: str | os.PathLike,
        formats: str | Iterable[str] = ("json",),
        overwrite: bool = False,
        *,
        stem: str = "visemes",
    ) -> list[Path]:
        """Write ``formats`` (names from ``visemes.formats.FORMATS``, e.g. ``"json,csv,textgrid"``) into
        ``out_dir`` as ``<stem><suffix>``; returns the paths. Nothing is written if any file exists and
        ``overwrite`` is False."""
        return write_all(self, out_dir, formats, stem=stem, overwrite=overwrite)

    def plot(self, path: str | os.PathLike, *, overwrite: bool = False, spectrogram: bool = False, **kwargs: Any) -> Path:
        """Timeline PNG: the synthetic speech, the tiers and the articulation curves."""
        return plot_timeline(
            self.alignment, path, audio=self.audio, sample_rate=self.sample_rate, curves=self.animation,
            spectrogram=spectrogram, overwrite=overwrite, **kwargs,
        )


def text_to_visemes(
    text: str,
    lang: str,
    *,
    fps: float = DEFAULT_FPS,
    viseme_set: str = "oculus",
    rate: int = DEFAULT_RATE,
) -> TextVisemes:
    """Timed visemes and mouth curves for ``text`` spoken in ``lang``, with no audio needed.

    ``viseme_set``: ``oculus`` (default), ``azure``, ``rhubarb`` or ``mpeg4`` — both the ``visemes`` tier
    and the per-frame viseme weights use it. ``rate``: speaking rate in words per minute (espeak-ng's
    scale, 80-450). ``fps``: frame rate of the curves.
    """
    fps = check_fps(fps)
    check_set(viseme_set)
    if isinstance(rate, bool) or not isinstance(rate, (int, np.integer)) or not RATE_RANGE[0] <= rate <= RATE_RANGE[1]:
        raise InputError(f"Speaking rate must be a whole number of words per minute in {RATE_RANGE[0]}..{RATE_RANGE[1]}, got {rate!r}.")
    if not isinstance(text, str) or not text.strip():
        raise TranscriptError("The text is empty: give at least one word to turn into visemes.")
    pack = load_pack(lang)
    spoken = speak_with_pack(text, pack, rate=int(rate))
    timed = spoken.alignment
    visemes = viseme_tier(timed.phones, pack, viseme_set, duration=timed.duration)
    alignment = timed.with_tier(visemes).with_meta(lang=pack.code, viseme_set=viseme_set, timing="synthesized")
    animation = animate_phones(alignment.phones, pack, fps, alignment.duration, viseme_set=viseme_set)
    return TextVisemes(text, alignment, animation, spoken.audio, spoken.sample_rate, pack)
