"""Gold corpora for the benchmarks: audio + TextGrid pairs with hand-placed phone boundaries.

One reader for every benchmark that scores against gold (alignment.py, audio_only.py, mismatch.py).
Tiers ``words``/``phones`` or ``word``/``phone``; silences (SILENCE_LABELS) dropped; the folder above a
TextGrid names its language.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from praatio import textgrid

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from visemes.core.timeline import PhoneToken, Transcript, WordPhones, is_silence_label  # noqa: E402


@dataclass
class GoldItem:
    key: str
    lang: str
    audio: np.ndarray
    sr: int
    words: list  # [(label, [(symbol, start, end)])]

    def boundaries(self) -> np.ndarray:
        phones = [p for _, ps in self.words for p in ps]
        return np.array([p[1] for p in phones] + [phones[-1][2]])


def _tier(tg, names):
    for n in names:
        if n in tg.tierNames:
            return tg.getTier(n)
    return None


def load_gold(root: Path, langs: set[str] | None = None, skip_arpabet: bool = True) -> tuple[list[GoldItem], list[str]]:
    items, skipped = [], []
    for tg_path in sorted(root.rglob("*.TextGrid")):
        lang = tg_path.parent.name if tg_path.parent != root else root.name
        if langs and lang not in langs:
            continue
        audio_path = next((tg_path.with_suffix(s) for s in (".flac", ".wav") if tg_path.with_suffix(s).exists()), None)
        if audio_path is None:
            continue
        tg = textgrid.openTextgrid(str(tg_path), includeEmptyIntervals=False)
        wt, pt = _tier(tg, ("words", "word")), _tier(tg, ("phones", "phone"))
        if pt is None:
            skipped.append(f"{tg_path.name}: no phone tier")
            continue
        phones = [(e.label.strip(), e.start, e.end) for e in pt.entries if not is_silence_label(e.label)]
        if not phones:
            continue
        if skip_arpabet and all(p[0].isascii() and p[0].isupper() or p[0][-1:].isdigit() for p in phones):
            skipped.append(f"{tg_path.name}: ARPAbet phones (skipped, not IPA)")
            continue
        words = []
        if wt is not None:
            for e in wt.entries:
                if is_silence_label(e.label):
                    continue
                ps = [p for p in phones if e.start - 1e-4 <= 0.5 * (p[1] + p[2]) <= e.end + 1e-4]
                if ps:
                    words.append((e.label.strip(), ps))
        if not words or sum(len(ps) for _, ps in words) != len(phones):
            words = [("".join(p[0] for p in phones), phones)]
        audio, sr = sf.read(str(audio_path), dtype="float32", always_2d=False)
        if audio.ndim == 2:
            audio = audio.mean(axis=1)
        items.append(GoldItem(tg_path.stem, lang, audio, sr, words))
    return items, skipped


def transcript_of(item: GoldItem, lang: str | None = None):
    return Transcript(tuple(WordPhones(w, tuple(PhoneToken(p[0].replace(" ", "")) for p in ps)) for w, ps in item.words), lang)
