"""Transcript-mismatch flag: false alarms on correct transcripts, detection of swapped ones.

Cases on VoxAngeles dev: every file with its own transcript ("ok"), and files given another file's
transcript of the same language ("same") or of another language ("other"). Corpus mode: all files
adapted together (10% same-language and 5% other-language swaps per language); single mode: each file
alone (8 files per language, each ok / same / other). Prints the share flagged by the shipped decision
(``meta["mismatch"]``), by the fit-gap rule alone (gap > MISMATCH_GAP), and the 95% quantile of correct
files' single-mode score (how ``transcript_check.SINGLE_THRESHOLD`` was set).

    python benchmarks/mismatch.py --gold ../shared/devdata/voxangeles_dev [--mode single|corpus|both] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import gold_corpus  # noqa: E402 - the gold-corpus reader beside this script

from visemes.alignment.builtin import BuiltinAligner  # noqa: E402
from visemes.alignment.builtin.confidence import MISMATCH_GAP  # noqa: E402
from visemes.alignment.builtin.transcript_check import LLR_SCALE  # noqa: E402
from visemes.core.errors import VisemesError  # noqa: E402


def cases_for(items, mode: str, rng: np.random.Generator):
    by_lang: dict[str, list[int]] = {}
    for i, it in enumerate(items):
        by_lang.setdefault(it.lang, []).append(i)
    langs = sorted(by_lang)

    def swapped(i, kind):
        it = items[i]
        if kind == "same":
            own = gold_corpus.transcript_of(it).symbols
            pool = [j for j in by_lang[it.lang] if j != i and gold_corpus.transcript_of(items[j]).symbols != own]
        else:
            pool = [j for lang in langs if lang != it.lang for j in by_lang[lang]]
        return gold_corpus.transcript_of(items[int(rng.choice(pool))], it.lang)

    cases = []
    if mode == "corpus":
        cases += [(i, "ok", gold_corpus.transcript_of(it, it.lang)) for i, it in enumerate(items)]
        for lang in langs:
            idx = list(by_lang[lang])
            rng.shuffle(idx)
            k = max(1, len(idx) // 10)
            cases += [(i, "same", swapped(i, "same")) for i in idx[:k]]
            cases += [(i, "other", swapped(i, "other")) for i in idx[k : k + max(1, len(idx) // 20)]]
    else:
        for lang in langs:
            idx = list(by_lang[lang])
            rng.shuffle(idx)
            for i in idx[:8]:
                cases += [(i, "ok", gold_corpus.transcript_of(items[i], items[i].lang)), (i, "same", swapped(i, "same")),
                          (i, "other", swapped(i, "other"))]
    return cases


def run(items, mode: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    cases = cases_for(items, mode, rng)
    al = BuiltinAligner()
    preps, kinds = [], []
    for i, kind, tr in cases:
        try:
            preps.append(al.prepare(items[i].audio, items[i].sr, tr))
            kinds.append(kind)
        except VisemesError:
            continue
    t0 = time.perf_counter()
    if mode == "corpus":
        out = al.decode_many(preps, al.adapt(preps))
    else:
        out = [al.decode(p, al.adapt([p])) for p in preps]
    wall = time.perf_counter() - t0
    kinds = np.array(kinds)
    shipped = np.array([a.meta["mismatch"] for a in out])
    gap = np.array([a.meta["fit_gap"] for a in out])
    print(f"\n{mode} mode, seed {seed}: {len(out)} cases ({wall:.0f} s)")
    print(f"{'decision':<28}{'FA (ok)':>10}{'same':>10}{'other':>10}")
    rules = {"shipped (meta mismatch)": shipped, f"fit gap > {MISMATCH_GAP}": gap > MISMATCH_GAP}
    for name, flag in rules.items():
        print(f"{name:<28}" + "".join(f"{flag[kinds == k].mean():>10.3f}" for k in ("ok", "same", "other")))
    if mode == "single":
        llr = np.array([a.meta["loop_llr"] for a in out])
        score = np.log(np.maximum(gap, 1e-4)) + llr / LLR_SCALE
        print(f"single-mode score ln(gap) + llr/{LLR_SCALE}: 95% quantile of ok = {np.quantile(score[kinds == 'ok'], 0.95):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gold", type=Path, required=True)
    ap.add_argument("--mode", choices=("single", "corpus", "both"), default="both")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    items, _ = gold_corpus.load_gold(args.gold)
    for mode in (("single", "corpus") if args.mode == "both" else (args.mode,)):
        run(items, mode, args.seed)


if __name__ == "__main__":
    main()
