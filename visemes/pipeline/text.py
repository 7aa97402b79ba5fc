"""The Python front of the text-only commands (mirrors ``visemes phonemize`` and ``visemes text2visemes``).

>>> from visemes import text_to_visemes                                  # doctest: +SKIP
>>> result = text_to_visemes("नमस्ते", "hi", fps=30, viseme_set="rhubarb")  # doctest: +SKIP
>>> result.alignment.visemes.labels                                      # doctest: +SKIP
>>> result.save("out", ["json", "rhubarb-tsv", "textgrid"])              # doctest: +SKIP

Timing comes from espeak-ng speaking the text (``visemes.speech.synthesis.speak``): the phones are exactly the
language pack's transcript and their durations are the synthesizer's. The mouth curves come from the
coarticulation model (``visemes.mouth.coarticulation.animate_phones``). The result is the
:class:`~visemes.pipeline.animator.AnimationResult` that :func:`visemes.animate` returns; the synthetic
speech is kept, so it can be saved as WAV and previewed.
"""

from __future__ import annotations

import numpy as np

from visemes.core.curves import check_fps
from visemes.core.errors import InputError, TranscriptError
from visemes.core.timeline import Transcript
from visemes.core.vocabulary import check_set
from visemes.lang_packs import load as load_pack
from visemes.pipeline.animator import AnimationResult, finish
from visemes.speech.synthesis import speak_with_pack

DEFAULT_FPS = 30.0
DEFAULT_RATE = 175  # espeak-ng's default speaking rate, words per minute
RATE_RANGE = (80, 450)  # what espeak-ng accepts


def phonemize(text: str, lang: str) -> Transcript:
    """Words of ``text`` with their normalized IPA phones in language ``lang`` (a BCP-47 code)."""
    return load_pack(lang).phonemize(text)


def text_to_visemes(
    text: str,
    lang: str,
    *,
    fps: float = DEFAULT_FPS,
    viseme_set: str = "oculus",
    rate: int = DEFAULT_RATE,
) -> AnimationResult:
    """Timed visemes and mouth curves for ``text`` spoken in ``lang``, with no audio needed.

    ``viseme_set``: ``oculus`` (default), ``azure``, ``rhubarb`` or ``mpeg4`` — both the ``visemes`` tier
    and the per-frame viseme weights use it. ``rate``: speaking rate in words per minute (espeak-ng's
    scale, 80-450). ``fps``: frame rate of the curves. Returns the same :class:`AnimationResult` as
    :func:`visemes.animate` (``timing="synthesized"``, the synthetic speech in ``audio``).
    """
    fps = check_fps(fps)
    check_set(viseme_set)
    if isinstance(rate, bool) or not isinstance(rate, (int, np.integer)) or not RATE_RANGE[0] <= rate <= RATE_RANGE[1]:
        raise InputError(f"Speaking rate must be a whole number of words per minute in {RATE_RANGE[0]}..{RATE_RANGE[1]}, got {rate!r}.")
    if not isinstance(text, str) or not text.strip():
        raise TranscriptError("The text is empty: give at least one word to turn into visemes.")
    pack = load_pack(lang)
    spoken = speak_with_pack(text, pack, rate=int(rate))
    return finish(spoken.alignment, pack, spoken.audio, spoken.sample_rate, "synthesized", fps=fps,
                  viseme_set=viseme_set, use_model=False, text=text)
