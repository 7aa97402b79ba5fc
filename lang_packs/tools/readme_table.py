"""Write (or check) the language table in README.md from the pack files.

    python -m visemes.lang_packs.tools.readme_table            # rewrite the table between the markers
    python -m visemes.lang_packs.tools.readme_table --check    # exit 1 if README.md is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from visemes.core.atomic import atomic_write_text
from visemes.lang_packs.info import available

START, END = "<!-- langtable:start -->", "<!-- langtable:end -->"


def render_table() -> str:
    rows = [
        "| code | language | extends | G2P | espeak voice / epitran code | phones | coverage | measured on |",
        "|---|---|---|---|---|---:|---:|---|",
    ]
    for info in available():
        if info.origin != "builtin":
            continue
        coverage = "—" if info.coverage is None else f"{info.coverage:.1%}"
        rows.append(
            f"| `{info.code}` | {info.name} | {info.parent or ''} | {info.backend} | {info.voice} | "
            f"{info.phone_count} | {coverage} | {info.coverage_words or ''} |"
        )
    return "\n".join(rows)


def splice(readme: str, table: str) -> str:
    if START not in readme or END not in readme:
        raise SystemExit(f"README.md lacks the markers {START} / {END}.")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readme", type=Path, default=Path("README.md"))
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when out of date")
    args = parser.parse_args(argv)
    current = args.readme.read_text(encoding="utf-8")
    wanted = splice(current, render_table())
    if args.check:
        if wanted != current:
            print(f"{args.readme} language table is out of date: run python -m visemes.lang_packs.tools.readme_table")
            return 1
        return 0
    if wanted != current:
        atomic_write_text(args.readme, wanted, overwrite=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
