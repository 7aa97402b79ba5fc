"""Corpus runner benchmark: ``align-corpus`` speed (x real time) by worker count, and boundary accuracy.

Builds an MFA-style corpus in a temporary folder from a gold corpus laid out as
``<lang>/<name>.flac|.wav`` + ``<name>.TextGrid`` (e.g. the project's VoxAngeles dev set): audio is
linked (so the run follows symbolic links out of the corpus), and each ``.lab`` holds the gold phones
as IPA (so only timing is scored). Then runs :func:`visemes.pipeline.jobs.align_corpus` once per
``--jobs`` value (a fresh output folder each time, so nothing is skipped) and scores the last run with
:func:`visemes.alignment.evaluate.evaluate_dirs`.

    python benchmarks/align_corpus.py ../shared/devdata/voxangeles_dev --langs ces --jobs 1,2
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and benchmarks/alignment.py would shadow the
# alignment package: put the repository root there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != _HERE]


from visemes.alignment import get_aligner
from visemes.alignment.evaluate import evaluate_dirs, read_alignment

from visemes.pipeline.jobs import align_corpus


def build_corpus(gold: Path, langs: list[str] | None, target: Path) -> int:
    count = 0
    for grid in sorted(gold.rglob("*.TextGrid")):
        rel = grid.relative_to(gold)
        if langs and rel.parts[0] not in langs:
            continue
        audio = next((grid.with_suffix(ext) for ext in (".flac", ".wav") if grid.with_suffix(ext).exists()), None)
        if audio is None:
            continue
        phones = read_alignment(grid).phones.labels
        if not phones:
            continue
        out = target / rel.with_suffix("")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.with_suffix(".lab").write_text(" ".join(phones) + "\n", encoding="utf-8")
        out.with_suffix(audio.suffix).symlink_to(audio.resolve())
        count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gold", type=Path, help="gold corpus: <lang>/<name>.flac + <name>.TextGrid")
    parser.add_argument("--langs", default="", help="comma-separated sub-folders to use (default: all)")
    parser.add_argument("--jobs", default="1,2", help="comma-separated worker counts to time")
    parser.add_argument("--backend", default="builtin")
    args = parser.parse_args(argv)

    langs = [x for x in args.langs.split(",") if x] or None
    jobs_list = [int(x) for x in args.jobs.split(",") if x]
    with tempfile.TemporaryDirectory(prefix="visemes-bench-corpus-") as tmp:
        corpus = Path(tmp) / "corpus"
        n = build_corpus(args.gold, langs, corpus)
        if n == 0:
            print(f"no usable files under {args.gold}", file=sys.stderr)
            return 1
        aligner = get_aligner(args.backend)
        rows = []
        last_out = None
        for run, jobs in enumerate(jobs_list):
            last_out = Path(tmp) / f"out{run}_j{jobs}"  # a fresh folder per run: nothing skipped
            report = align_corpus(corpus, last_out, aligner, ipa=True, jobs=jobs, formats="textgrid",
                                  follow_symlinks=True)
            rows.append((jobs, len(report.done), len(report.failed), report.audio_seconds, report.seconds,
                         report.realtime_factor))
        print(f"corpus: {n} files from {args.gold} ({', '.join(langs) if langs else 'all folders'}), "
              f"backend {args.backend}, IPA transcripts from gold")
        print(f"{'jobs':>4} {'done':>5} {'failed':>6} {'audio s':>8} {'wall s':>7} {'x real time':>11}")
        for jobs, ok, failed, audio_s, wall_s, rtf in rows:
            print(f"{jobs:>4} {ok:>5} {failed:>6} {audio_s:>8.1f} {wall_s:>7.1f} {rtf:>11.1f}")
        print()
        print(f"accuracy of the jobs={jobs_list[-1]} run (pooled adaptation over the whole corpus):")
        print(evaluate_dirs(last_out, args.gold).table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
