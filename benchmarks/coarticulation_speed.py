"""Speed of the dominance-function coarticulation model (frames per second of compute).

Random but realistic phone sequences (30-150 ms phones, pauses now and then) of the en-us pack are
animated at several frame rates; the table gives the median of ``--repeats`` runs, wall clock and
CPU seconds of this process (all its threads): on a busy shared machine the CPU time is the steadier one.

    python benchmarks/coarticulation_speed.py --minutes 10 --repeats 5
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def random_phones(minutes: float, seed: int = 0):
    from visemes.core.timeline import Interval, Tier

    symbols = ["p", "ɑ", "t", "i", "k", "u", "s", "m", "ə", "f", "ɹ", "l", "n", "oʊ", "eɪ", "b", "w", "ʃ", "θ", "æ"]
    rng = np.random.default_rng(seed)
    out, t = [], 0.1
    while t < minutes * 60:
        dur = rng.uniform(0.03, 0.15)
        out.append(Interval(t, t + dur, symbols[rng.integers(len(symbols))]))
        t += dur
        if rng.random() < 0.05:
            t += rng.uniform(0.1, 0.6)
    return Tier("phones", tuple(out)), t + 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--fps", default="24,30,60")
    parser.add_argument("--viseme-set", default="oculus")
    args = parser.parse_args()

    from visemes import lang_packs
    from visemes.mouth.coarticulation import animate_phones

    pack = lang_packs.load("en-us")
    phones, duration = random_phones(args.minutes)
    animate_phones(phones, pack, 30, duration)  # warm-up: pack specs, panphon, numpy
    print(f"{len(phones)} phones, {duration / 60:.1f} min of speech, set={args.viseme_set}")
    print(f"{'fps':>5} {'frames':>8} {'median s':>9} {'cpu s':>7} {'frames/s':>10} {'x real time':>12}")
    for fps in (float(f) for f in args.fps.split(",")):
        times, cpu = [], []
        for _ in range(args.repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            anim = animate_phones(phones, pack, fps, duration, viseme_set=args.viseme_set)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        med = float(np.median(times))
        print(f"{fps:5.0f} {anim.n_frames:8d} {med:9.3f} {float(np.median(cpu)):7.3f} {anim.n_frames / med:10.0f} "
              f"{duration / med:12.0f}")


if __name__ == "__main__":
    main()
