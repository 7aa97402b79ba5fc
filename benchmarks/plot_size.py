"""Timeline plot speed by alignment size: seconds to render a PNG of N phones (plus N/4 words, every phone
low-confidence so the shading is drawn too), and the refusal above ``MAX_PLOT_INTERVALS``.

    python benchmarks/plot_size.py --phones 2000,10000,80000,200000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != _HERE]
os.environ.setdefault("MPLBACKEND", "Agg")

from visemes.core.errors import VisemesError  # noqa: E402
from visemes.core.timeline import Alignment, Interval, Tier  # noqa: E402
from visemes.formats.plot import render_timeline  # noqa: E402


def synthetic(n_phones: int) -> Alignment:
    phones = Tier("phones", tuple(Interval(i * 0.08, i * 0.08 + 0.07, "a", {"confidence": 0.3})
                                  for i in range(n_phones)))
    words = Tier("words", tuple(Interval(i * 0.32, i * 0.32 + 0.3, "word") for i in range(n_phones // 4)))
    return Alignment((words, phones), n_phones * 0.08 + 1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", default="2000,10000,80000,200000", help="comma-separated phone counts")
    args = parser.parse_args()
    print(f"{'phones':>8} {'intervals':>10} {'seconds':>8}  result")
    for n in (int(x) for x in args.phones.split(",")):
        alignment = synthetic(n)
        started = time.perf_counter()
        try:
            png = render_timeline(alignment)
            outcome = f"{len(png) // 1024} KiB PNG"
        except VisemesError as exc:
            outcome = f"refused: {str(exc)[:60]}..."
        print(f"{n:>8} {n + n // 4:>10} {time.perf_counter() - started:>8.2f}  {outcome}")


if __name__ == "__main__":
    main()
