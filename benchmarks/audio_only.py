"""Audio-only mode (free class loop) vs the text path: frame-level Oculus viseme-class accuracy.

Gold: hand-corrected VoxAngeles phones -> Oculus classes through the language's pack (or the generic
feature-based fallback where there is no pack); silence -> ``sil``. Text path: the built-in aligner on
the gold phone transcript, each file alone (as ``visemes animate take.wav --text``). Audio-only: the free
unit loop (``visemes.alignment.builtin.recognise``: the class network's place-aware units, or with
``--gaussian`` the Gaussian class loop alone) with no transcript, with and without the pack's inventory
as a language hint. Accuracy over 10-ms frames of the whole file, and of gold speech frames. The run-time
constants were chosen on ces/eus/ibo (``TUNING``); the other languages are held out (rows marked *).

    python benchmarks/audio_only.py --gold ../shared/devdata/voxangeles_dev [--langs aeb,ces] [--limit 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import gold_corpus  # noqa: E402 - the gold-corpus reader beside this script

from visemes import lang_packs  # noqa: E402
from visemes.alignment.builtin import BuiltinAligner  # noqa: E402
from visemes.alignment.builtin.recognise import classes_of, recognise  # noqa: E402
from visemes.core.errors import VisemesError  # noqa: E402
from visemes.core.timeline import Interval, Tier  # noqa: E402
from visemes.mouth.visemesets import viseme_tier  # noqa: E402

STEP = 0.010
#: VoxAngeles ISO 639-3 codes -> the code a pack or espeak-ng voice answers to (None: no voice, fallback)
CODES = {"aeb": "ar", "ben": "bn", "ces": "cs", "ell": "el", "eus": "eu", "hak": "hak", "haw": "haw",
         "ibo": None, "kea": None, "lad": None, "mal": "ml", "tzm": None}
#: the languages the audio-only constants were chosen on (the rest are held out)
TUNING = ("ces", "eus", "ibo")


class FallbackPack:
    """The universal feature-based phone specs, for a language without a pack or voice."""

    code = "und"
    inventory: dict = {}

    def phone(self, symbol):
        return lang_packs.fallback_phone(symbol)


def pack_for(lang: str):
    code = CODES.get(lang, lang)
    if code:
        try:
            return lang_packs.load(code)
        except VisemesError:
            pass
    return FallbackPack()


def frames_of(tier: Tier, duration: float) -> np.ndarray:
    n = int(np.ceil(duration / STEP))
    out = np.array(["sil"] * n, dtype=object)
    centres = (np.arange(n) + 0.5) * STEP
    for iv in tier:
        out[(centres >= iv.start) & (centres < iv.end)] = iv.label
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gold", type=Path, required=True)
    ap.add_argument("--langs", default="", help="comma-separated ISO 639-3 codes (default: all)")
    ap.add_argument("--limit", type=int, default=0, help="files per language (0: all)")
    ap.add_argument("--no-text", action="store_true", help="skip the text path (faster)")
    ap.add_argument("--gaussian", action="store_true", help="audio-only with the Gaussian class loop (no network)")
    args = ap.parse_args()
    items, _ = gold_corpus.load_gold(args.gold, set(args.langs.split(",")) if args.langs else None)
    if args.limit:
        kept, seen = [], {}
        for it in items:
            seen[it.lang] = seen.get(it.lang, 0) + 1
            if seen[it.lang] <= args.limit:
                kept.append(it)
        items = kept
    aligner = BuiltinAligner()
    rows: dict[str, dict[str, list]] = {}
    t0 = time.perf_counter()
    audio_s = audio_only_s = 0.0
    net = {"net": None} if args.gaussian else {}
    for it in items:
        pack = pack_for(it.lang)
        duration = len(it.audio) / it.sr
        audio_s += duration
        gold_phones = Tier("phones", tuple(Interval(p[1], p[2], p[0].replace(" ", ""))
                                           for _, ps in it.words for p in ps))
        gold = frames_of(viseme_tier(gold_phones, pack, "oculus", duration=duration), duration)
        speech = gold != "sil"
        preds = {}
        t1 = time.process_time()  # CPU time: the wall clock of a shared machine says little
        al = recognise(it.audio, it.sr, **net)
        audio_only_s += time.process_time() - t1
        preds["audio"] = frames_of(viseme_tier(al.phones, pack, "oculus", duration=duration), duration)
        if pack.inventory:
            hinted = recognise(it.audio, it.sr, classes=classes_of(pack.inventory), inventory=tuple(pack.inventory), **net)
            preds["audio+hint"] = frames_of(viseme_tier(hinted.phones, pack, "oculus", duration=duration), duration)
        if not args.no_text:
            try:
                timed = aligner.align_transcript(it.audio, it.sr, gold_corpus.transcript_of(it, it.lang))
                preds["text"] = frames_of(viseme_tier(timed.phones, pack, "oculus", duration=duration), duration)
            except VisemesError:
                pass
        r = rows.setdefault(it.lang, {"pack": [pack.code if pack.inventory else "generic" if pack.code != "und" else "none"]})
        for name, p in preds.items():
            r.setdefault(name, []).append(((p == gold).sum(), len(gold), (p == gold)[speech].sum(), speech.sum()))
        if "text" in preds:
            r.setdefault("audio_vs_text", []).append(((preds["audio"] == preds["text"]).sum(), len(gold), 0, 1))
    wall = time.perf_counter() - t0
    names = ["audio", "audio+hint", "text", "audio_vs_text"]
    print(f"\nframe-level Oculus class accuracy (10-ms frames; all / gold-speech frames), {len(items)} files")
    print(f"{'lang':<6}{'pack':<8}{'n':>5}" + "".join(f"{n:>22}" for n in names))
    tot = {n: np.zeros(4) for n in names}
    for lang in sorted(rows):
        r = rows[lang]
        cells = []
        for n in names:
            if n in r:
                a = np.sum(r[n], axis=0)
                tot[n] += a
                cells.append(f"{a[0] / a[1]:>13.3f}" + (f" / {a[2] / a[3]:.3f}" if n != "audio_vs_text" else "      "))
            else:
                cells.append(f"{'-':>22}")
        print(f"{lang + ('' if lang in TUNING else '*'):<6}{r['pack'][0][:7]:<8}{len(r['audio']):>5}" + "".join(f"{c:>22}" for c in cells))
    cells = []
    for n in names:
        a = tot[n]
        cells.append(f"{a[0] / a[1]:>13.3f}" + (f" / {a[2] / a[3]:.3f}" if n != "audio_vs_text" else "      ")
                     if a[1] else f"{'-':>22}")
    print(f"{'ALL':<6}{'':<8}{len(items):>5}" + "".join(f"{c:>22}" for c in cells))
    for name, keep in (("tuning", lambda lang: lang in TUNING), ("held out", lambda lang: lang not in TUNING)):
        cells = []
        for n in ("audio", "text"):
            a = sum((np.sum(rows[lang][n], axis=0) for lang in rows if keep(lang) and n in rows[lang]), np.zeros(4))
            cells.append(f"{n} {a[0] / a[1]:.3f} / {a[2] / a[3]:.3f}" if a[1] else f"{n} -")
        print(f"{name}: " + ", ".join(cells))
    print(f"speed: {audio_s:.1f} s audio in {wall:.1f} s wall (all paths together); audio-only path "
          f"{audio_only_s:.1f} CPU s ({audio_only_s / max(audio_s, 1e-9):.4f} CPU s per audio second)")


if __name__ == "__main__":
    main()
