"""Measure every pack's coverage and record it in lang_packs/data/_coverage.toml (read by `visemes langs`).

    python -m visemes.lang_packs.tools.coverage [CODE ...]

Coverage = share of phone tokens, from phonemizing the pack's coverage words (wordfreq top 2000, or
data/sentences/<code>.txt), that the pack lists explicitly. The test suite enforces 100% per pack.
"""

from __future__ import annotations

import argparse
import json
import sys

from visemes.core.atomic import atomic_write_text

from visemes.lang_packs.coverage import measure
from visemes.lang_packs.info import COVERAGE_FILE, recorded_coverage
from visemes.lang_packs.loader import load
from visemes.lang_packs.registry import builtin_folder, pack_files


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("codes", nargs="*", help="pack codes (default: every pack)")
    args = ap.parse_args(argv)
    codes = args.codes or [pf.code for pf in pack_files().values()]
    table = recorded_coverage()
    for code in codes:
        cov = measure(load(code))
        table[cov.code] = {"coverage": round(cov.ratio, 6), "words": cov.words, "tokens": cov.tokens}
        print(f"{cov.code:10s} {cov.ratio:8.4f} {cov.tokens:7d} tokens  {cov.words}  missing: {' '.join(cov.missing[:20])}")
    lines = ["# Written by `python -m visemes.lang_packs.tools.coverage`; do not edit by hand.", "[coverage]"]
    for code in sorted(table):
        row = table[code]
        lines.append(f"{json.dumps(code)} = {{ coverage = {row['coverage']}, words = {json.dumps(row['words'])}, "
                     f"tokens = {row['tokens']} }}")
    atomic_write_text(str(builtin_folder() / COVERAGE_FILE), "\n".join(lines) + "\n", overwrite=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
