"""Draft a pack's [phones] table: phonemize its coverage words, count the normalized phones, and print
TOML entries for the phones the pack does not list yet, pre-filled from the universal fallback.

    python -m visemes.lang_packs.tools.draft_inventory CODE [--n 2000] [--all]

The pack file may have an empty [phones] table while you draft. Check every drafted line by hand
(viseme, and the note); see lang_packs/AUTHORING.md.
"""

from __future__ import annotations

import argparse
import json
import sys

from visemes.lang_packs.coverage import N_WORDS, measure
from visemes.lang_packs.fallback import mouth_target, viseme_class
from visemes.lang_packs.loader import build, spec_of


def draft(code: str, n: int = N_WORDS, show_all: bool = False) -> str:
    pack = build(spec_of(code, require_phones=False))
    cov = measure(pack, n)
    lines = [f"# {pack.code}: {cov.tokens} phone tokens from {cov.words}; coverage {cov.ratio:.4f}; "
             f"{len(cov.missing)} phones missing"]
    symbols = [s for s, _ in cov.counts.most_common()] if show_all else list(cov.missing)
    for sym in symbols:
        if sym in pack.inventory:
            spec = pack.inventory[sym]
            lines.append(f"# {json.dumps(sym, ensure_ascii=False)} = {{ viseme = \"{spec.viseme}\" }}  # listed, n={cov.counts[sym]}")
            continue
        target = {k: v for k, v in mouth_target(sym).items() if v}
        lines.append(
            f"{json.dumps(sym, ensure_ascii=False)} = {{ viseme = \"{viseme_class(sym)}\", note = \"n={cov.counts[sym]}\" }}"
            f"  # fallback target {json.dumps(target)}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("code")
    ap.add_argument("--n", type=int, default=N_WORDS, help="number of wordfreq words (default 2000)")
    ap.add_argument("--all", action="store_true", help="also list the phones the pack already has")
    args = ap.parse_args(argv)
    print(draft(args.code, args.n, args.all))
    return 0


if __name__ == "__main__":
    sys.exit(main())
