"""Long audio in windows: word starts of real recordings joined end to end, with and without the entry cost.

Reads devdata's mfa_fixtures (real English, MFA's own test corpus; its word tiers are MFA output, a
reference to within a tenth of a second): each recording alone, and all of them joined into one file.
Prints per case the windows used, the median and share of word-start errors, the smallest piece speaking
rate (``meta["chunk_rates"]``), the QA decisions and the wall time.

    python benchmarks/long_joins.py --devdata ../shared/devdata
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's visemes
import visemes.alignment.builtin.chunking as chunking  # noqa: E402
from visemes.alignment.builtin import BuiltinAligner  # noqa: E402
from visemes.alignment.transcripts import from_text  # noqa: E402
from visemes.core.audio import load_audio  # noqa: E402
from visemes.core.textgrid import read_textgrid  # noqa: E402
from visemes.core.timeline import SILENCE_LABELS  # noqa: E402

STEMS = ("acoustic_corpus", "cold_corpus", "cold_corpus3")


def _load(folder: Path, stem: str):
    audio, rate = load_audio(folder / f"{stem}.wav", target_rate=16_000)
    words = [w for w in read_textgrid(folder / f"{stem}.TextGrid").words
             if w.label.strip() and w.label not in SILENCE_LABELS]
    return audio, rate, words


def _case(name, parts) -> tuple[str, np.ndarray, int, list[str], np.ndarray]:
    audio, labels, starts, offset = [], [], [], 0.0
    for x, rate, words in parts:
        audio.append(x)
        labels += [w.label for w in words]
        starts += [w.start + offset for w in words]
        offset += len(x) / rate
    return name, np.concatenate(audio), rate, labels, np.array(starts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devdata", type=Path, required=True)
    args = ap.parse_args()
    folder = args.devdata / "mfa_fixtures"
    parts = {stem: _load(folder, stem) for stem in STEMS}
    cases = [_case(stem, [parts[stem]]) for stem in STEMS] + [_case("all three joined", list(parts.values()))]
    print(f"{'file':<18}{'s':>6}{'cost':>6}{'windows':>8}{'median':>8}{'<=0.1s':>8}{'<=0.5s':>8}{'min rate':>9}"
          f"{'uneven':>8}{'mismatch':>9}{'wall s':>8}")
    for name, audio, rate, labels, gold in cases:
        transcript = from_text(" ".join(labels), "en")
        for cost in (False, True):
            chunking.ENTRY_COST = cost
            t0 = time.perf_counter()
            result = BuiltinAligner().align(audio, rate, transcript)
            wall = time.perf_counter() - t0
            err = np.abs(np.array([w.start for w in result.words]) - gold)
            print(f"{name:<18}{len(audio) / rate:>6.1f}{'on' if cost else 'off':>6}{result.meta.get('chunks', 1):>8}"
                  f"{np.median(err):>8.3f}{np.mean(err <= 0.1):>8.2f}{np.mean(err <= 0.5):>8.2f}"
                  f"{min(result.meta.get('chunk_rates', [1.0])):>9.2f}{str(bool(result.meta.get('uneven_rate'))):>8}"
                  f"{str(result.meta['mismatch']):>9}{wall:>8.1f}")
    chunking.ENTRY_COST = True


if __name__ == "__main__":
    main()
