"""Does ``animate-corpus`` align like ``align-corpus``? Boundary accuracy of both on the same files.

Builds a corpus of ``--files`` recordings of one language of a gold corpus laid out as
``<lang>/<name>.flac`` + ``<name>.TextGrid`` (e.g. the VoxAngeles dev set), each with a ``.txt`` holding
the gold ``words`` tier as text (G2P through ``--lang``, the same for every run), then aligns it three
ways and scores each against the gold TextGrids (:func:`visemes.alignment.evaluate.evaluate_dirs`):

* ``align-corpus``: the corpus runner, the built-in aligner adapted once on the pooled corpus;
* ``animate-corpus``: the same runner animating the files (coarticulation curves; the phones tier of
  each ``OUT/<name>/visemes.TextGrid`` is scored);
* ``single file``: ``visemes.alignment.align`` on each file alone (adapted on that file only), which is
  what ``animate-corpus`` did before it shared the runner.

    python benchmarks/animate_corpus_alignment.py ../shared/devdata/voxangeles_dev --lang haw --files 20
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and benchmarks/alignment.py would shadow the
# alignment package: put the repository root there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from visemes.alignment import align, get_aligner
from visemes.alignment.evaluate import evaluate_dirs, read_alignment

from visemes.core.textgrid import write_textgrid
from visemes.pipeline.jobs import AnimateOptions, align_corpus, animate_corpus


def build(gold: Path, lang_dir: str, n: int, corpus: Path, gold_subset: Path) -> list[str]:
    names = []
    for grid in sorted((gold / lang_dir).glob("*.TextGrid")):
        audio = grid.with_suffix(".flac")
        words = read_alignment(grid)
        if not audio.exists() or not words.has_tier("words") or not len(words.words):
            continue
        (corpus / lang_dir).mkdir(parents=True, exist_ok=True)
        (gold_subset / lang_dir).mkdir(parents=True, exist_ok=True)
        shutil.copy(audio, corpus / lang_dir / audio.name)
        (corpus / lang_dir / f"{grid.stem}.txt").write_text(" ".join(words.words.labels) + "\n", encoding="utf-8")
        shutil.copy(grid, gold_subset / lang_dir / grid.name)
        names.append(f"{lang_dir}/{grid.stem}")
        if len(names) == n:
            break
    return names


def overall_row(pred: Path, gold: Path) -> str:
    report = evaluate_dirs(pred, gold)
    o = report.overall
    return (f"{len(report.files):>6} {o.n:>10} {o.within[10]:>7.1%} {o.within[20]:>7.1%} {o.within[25]:>7.1%} "
            f"{o.within[50]:>7.1%} {o.median_ms:>9.1f} {o.mean_ms:>8.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gold", type=Path, help="gold corpus: <lang>/<name>.flac + <name>.TextGrid")
    parser.add_argument("--lang-dir", default="haw", help="the gold corpus's sub-folder to take files from")
    parser.add_argument("--lang", default="haw", help="language pack for the G2P of the words")
    parser.add_argument("--files", type=int, default=20)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="visemes-bench-anim-align-") as tmp_name:
        tmp = Path(tmp_name)
        names = build(args.gold, args.lang_dir, args.files, tmp / "corpus", tmp / "gold")
        timings = {}
        start = time.perf_counter()
        aligned = align_corpus(tmp / "corpus", tmp / "align", get_aligner("builtin"), lang=args.lang, jobs=1)
        timings["align-corpus"] = time.perf_counter() - start
        start = time.perf_counter()
        animated = animate_corpus(tmp / "corpus", tmp / "animate", AnimateOptions(args.lang, use_model=False,
                                  formats=("textgrid",)), jobs=1)
        timings["animate-corpus"] = time.perf_counter() - start
        for name in names:  # animate-corpus writes OUT/<name>/visemes.TextGrid: score it at <name>.TextGrid
            src = tmp / "animate" / name / "visemes.TextGrid"
            if src.exists():
                (tmp / "animate_pred" / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(src, tmp / "animate_pred" / f"{name}.TextGrid")
        start = time.perf_counter()
        for name in names:
            text = (tmp / "corpus" / f"{name}.txt").read_text(encoding="utf-8")
            result = align(tmp / "corpus" / f"{name}.flac", text=text, lang=args.lang)
            write_textgrid(result, tmp / "single" / f"{name}.TextGrid")
        timings["single file"] = time.perf_counter() - start
        same = sum(
            [(p.start, p.end, p.label) for p in read_alignment(tmp / "align" / f"{n}.TextGrid").phones]
            == [(p.start, p.end, p.label) for p in read_alignment(tmp / "animate_pred" / f"{n}.TextGrid").phones]
            for n in names if (tmp / "align" / f"{n}.TextGrid").exists() and (tmp / "animate_pred" / f"{n}.TextGrid").exists()
        )
        print(f"{len(names)} files of {args.gold / args.lang_dir}, text = gold words, G2P --lang {args.lang}; "
              f"align-corpus {len(aligned.done)} done, animate-corpus {len(animated.done)} done")
        print(f"animate-corpus phones identical to align-corpus (start, end, label) in {same} of {len(names)} files")
        print(f"{'run':<15} {'wall s':>6} {'scored':>6} {'boundaries':>10} {'<=10ms':>7} {'<=20ms':>7} {'<=25ms':>7} "
              f"{'<=50ms':>7} {'median ms':>9} {'mean ms':>8}")
        for label, pred in (("align-corpus", "align"), ("animate-corpus", "animate_pred"), ("single file", "single")):
            print(f"{label:<15} {timings[label]:>6.1f} {overall_row(tmp / pred, tmp / 'gold')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
