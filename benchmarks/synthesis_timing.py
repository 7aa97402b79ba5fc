"""espeak-ng synthesis timing across languages: does every pack phone get a time from espeak's events?

For each language, sentences are drawn from the language's most frequent words (wordfreq, offline),
spoken with ``visemes.speech.synthesis.speak`` and checked: ``untimed`` counts transcript phones that found
no counterpart among espeak's phoneme events (they share a neighbour's time; the pack's G2P and the
synthesizer disagree there), ``rtf`` is synthesis + mapping time over audio duration.

    python benchmarks/synthesis_timing.py --langs en-us,cmn,ar,hi,de,fr-fr,es,ru,ja,vi,tr --sentences 20
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from visemes.lang_packs.samples import wordfreq_code  # noqa: E402 - after the checkout is on sys.path

def sentences(lang: str, n: int, words_per: int, seed: int) -> list[str]:
    import wordfreq

    code = wordfreq_code(lang)
    vocab = [w for w in wordfreq.top_n_list(code, 300) if any(ch.isalpha() for ch in w)]
    rng = np.random.default_rng(seed)
    joiner = "" if code in ("zh", "ja", "th") else " "
    return [joiner.join(rng.choice(vocab, size=words_per)) for _ in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--langs", default="en-us,cmn,ar,hi,de,fr-fr,es,ru,ja,vi,tr")
    parser.add_argument("--sentences", type=int, default=20)
    parser.add_argument("--words", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from visemes import lang_packs
    from visemes.speech.synthesis import speak

    print(f"{'lang':8} {'sent':>4} {'phones':>7} {'untimed':>8} {'untimed%':>9} {'audio s':>8} {'rtf':>7} {'errors':>6}")
    total_phones = total_untimed = 0
    for lang in args.langs.split(","):
        try:
            pack = lang_packs.load(lang)
            pack.phonemize(sentences(lang, 1, 1, args.seed)[0])  # warm-up: G2P backend start
        except Exception as exc:  # a language the packs cannot serve: say so and go on
            print(f"{lang:8} pack unusable: {type(exc).__name__}: {exc}")
            continue
        phones = untimed = errors = 0
        audio_s = compute_s = 0.0
        for text in sentences(lang, args.sentences, args.words, args.seed):
            t0 = time.perf_counter()
            try:
                spoken = speak(text, lang)
            except Exception as exc:  # report and go on: one bad sentence must not hide the others
                errors += 1
                print(f"  {lang}: {type(exc).__name__}: {exc}", file=sys.stderr)
                continue
            compute_s += time.perf_counter() - t0
            audio_s += spoken.duration
            phones += len(spoken.alignment.phones)
            untimed += int(spoken.alignment.meta["untimed_phones"])
        total_phones += phones
        total_untimed += untimed
        pct = 100.0 * untimed / max(phones, 1)
        rtf = compute_s / max(audio_s, 1e-9)
        print(f"{lang:8} {args.sentences:4d} {phones:7d} {untimed:8d} {pct:8.2f}% {audio_s:8.1f} {rtf:7.3f} {errors:6d}")
    print(f"{'all':8} {'':4} {total_phones:7d} {total_untimed:8d} {100.0 * total_untimed / max(total_phones, 1):8.2f}%")


if __name__ == "__main__":
    main()
