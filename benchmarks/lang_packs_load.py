"""lang_packs start-up cost: `import visemes.lang_packs`, the first `load(code)`, and the first `phonemize`, each
in a fresh Python process (what a CLI call or a worker pays), median over several runs.

    python benchmarks/lang_packs_load.py --codes ar,cmn,yue,hi,fr-fr --runs 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_PROBE = """
import json, sys, time
t0 = time.perf_counter()
from visemes import lang_packs
t1 = time.perf_counter()
pack = lang_packs.load(sys.argv[1])
pack.phone(next(iter(pack.inventory), "a"))
t2 = time.perf_counter()
pack.phonemize(sys.argv[2])
t3 = time.perf_counter()
print(json.dumps([t1 - t0, t2 - t1, t3 - t2]))
"""

TEXT = {"ar": "كتب الطالب", "cmn": "你好", "yue": "你好", "hi": "नमस्ते", "fr-fr": "bonjour"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--codes", default="ar,cmn,yue,hi,fr-fr")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    print(f"{'code':8s} {'import_s':>9s} {'load_s':>9s} {'phonemize_s':>12s}   (median of {args.runs} fresh processes)")
    for code in args.codes.split(","):
        rows = []
        for _ in range(args.runs):
            out = subprocess.run([sys.executable, "-c", _PROBE, code, TEXT.get(code, "a")], cwd=ROOT,
                                 capture_output=True, text=True, check=True).stdout
            rows.append(json.loads(out.strip().splitlines()[-1]))
        med = [statistics.median(col) for col in zip(*rows)]
        print(f"{code:8s} {med[0]:9.3f} {med[1]:9.3f} {med[2]:12.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
