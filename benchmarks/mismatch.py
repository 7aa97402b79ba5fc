"""Transcript-mismatch flag: false alarms on correct transcripts, detection of swapped ones.

Cases on VoxAngeles dev: every file with its own transcript ("ok"), and files given another file's
transcript of the same language ("same") or of another language ("other"). Corpus mode: all files
adapted together (10% same-language and 5% other-language swaps per language); single mode: each file
alone (8 files per language, each ok / same / other). Prints the share flagged by the shipped decision
(``meta["mismatch"]``), by the fixed fit-gap rule (gap > MISMATCH_GAP); in corpus mode the robust z of
ln(gap) against the corpus's own files at several k, and a leave-one-language-out choice of k (how
``confidence.MISMATCH_Z`` was set); in single mode the 95% quantile of correct files' score (how
``transcript_check.SINGLE_THRESHOLD`` was set).

    python benchmarks/mismatch.py --gold ../shared/devdata/voxangeles_dev [--mode single|corpus|both] [--seed 0]
        [--scope pooled|per-language]
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
import visemes.alignment.builtin.aligner as aligner_mod  # noqa: E402
from visemes.alignment.builtin.confidence import MISMATCH_GAP, GapReference  # noqa: E402
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


def _timed_reference():
    """Wrap the aligner's corpus-reference gap computation to measure what the relative decision costs."""
    spent = [0.0]
    original = aligner_mod.utterance_gap

    def timed(*args):
        t = time.perf_counter()
        try:
            return original(*args)
        finally:
            spent[0] += time.perf_counter() - t

    aligner_mod.utterance_gap = timed
    return spent


def _rates(flag: np.ndarray, kinds: np.ndarray) -> str:
    return "".join(f"{flag[kinds == k].mean():>10.3f}" for k in ("ok", "same", "other"))


def _robust_z(gap: np.ndarray, groups: np.ndarray) -> np.ndarray:
    z = np.zeros(len(gap))
    for g in set(groups):
        m = groups == g
        ref = GapReference.from_gaps(gap[m])
        z[m] = [ref.z(v) for v in gap[m]]
    return z


def run(items, mode: str, seed: int, scope: str) -> None:
    rng = np.random.default_rng(seed)
    cases = cases_for(items, mode, rng)
    al = BuiltinAligner()
    preps, kinds, langs = [], [], []
    for i, kind, tr in cases:
        try:
            preps.append(al.prepare(items[i].audio, items[i].sr, tr))
            kinds.append(kind)
            langs.append(items[i].lang)
        except VisemesError:
            continue
    kinds, langs = np.array(kinds), np.array(langs)
    spent = _timed_reference()
    t0 = time.perf_counter()
    if mode == "corpus":
        # one pooled corpus, or (per-language) one corpus per language: one speaker each in VoxAngeles
        groups = [np.arange(len(preps))] if scope == "pooled" else [np.flatnonzero(langs == g) for g in sorted(set(langs))]
        out = [None] * len(preps)
        for idx in groups:
            sub = [preps[i] for i in idx]
            for i, a in zip(idx, al.decode_many(sub, al.adapt(sub))):
                out[i] = a
    else:
        out = [al.decode(p, al.adapt([p])) for p in preps]
    wall = time.perf_counter() - t0
    audio_s = sum(p.duration for p in preps)
    shipped = np.array([a.meta["mismatch"] for a in out])
    gap = np.array([a.meta["fit_gap"] for a in out])
    rules = sorted({a.meta["mismatch_rule"] for a in out})
    print(f"\n{mode} mode ({scope if mode == 'corpus' else 'one file at a time'}), seed {seed}: {len(out)} cases, "
          f"{audio_s:.0f} s of audio ({wall:.0f} s)")
    print(f"{'decision':<44}{'FA (ok)':>10}{'same':>10}{'other':>10}")
    print(f"{'shipped (meta mismatch; ' + '/'.join(rules) + ')':<44}" + _rates(shipped, kinds))
    print(f"{f'fit gap > {MISMATCH_GAP}':<44}" + _rates(gap > MISMATCH_GAP, kinds))
    if mode == "corpus":
        print(f"corpus reference (median/MAD of ln gap) cost: {spent[0]:.2f} s = {spent[0] / audio_s:.4f} s per audio second")
        z = np.array([a.meta["gap_z"] for a in out])
        for k in (1.0, 1.2, 1.5, 1.645):
            print(f"{f'z > {k}':<44}" + _rates(z > k, kinds))
        # leave one language out: the smallest z (0.05 grid) with <= 5% false alarms on the other languages
        grid = np.round(np.arange(0.5, 3.0001, 0.05), 2)
        flag, chosen = np.zeros(len(z), bool), []
        for lang in sorted(set(langs)):
            train = langs != lang
            k = next(k for k in grid if np.mean(z[(kinds == "ok") & train] > k) <= 0.05)
            chosen.append(k)
            flag[~train] = z[~train] > k
        print(f"{f'LOLO z (chosen {min(chosen):.2f}-{max(chosen):.2f})':<44}" + _rates(flag, kinds))
    else:
        llr = np.array([a.meta["loop_llr"] for a in out])
        score = np.log(np.maximum(gap, 1e-4)) + llr / LLR_SCALE
        # leave one language out: the 95% quantile of the other languages' correct files
        flag = np.zeros(len(score), bool)
        for lang in set(langs):
            flag[langs == lang] = score[langs == lang] > np.quantile(score[(kinds == "ok") & (langs != lang)], 0.95)
        print(f"{'LOLO threshold, same score':<44}" + _rates(flag, kinds))
        print(f"single-mode score ln(gap) + llr/{LLR_SCALE}: 95% quantile of ok = {np.quantile(score[kinds == 'ok'], 0.95):.3f}")
    if mode == "corpus":
        print("AUC same-language swaps: fit gap " + f"{_auc(gap[kinds == 'same'], gap[kinds == 'ok']):.3f}")
    else:
        print("AUC same-language swaps: fit gap " + f"{_auc(gap[kinds == 'same'], gap[kinds == 'ok']):.3f}, "
              f"shipped score {_auc(score[kinds == 'same'], score[kinds == 'ok']):.3f}")


def _auc(pos: np.ndarray, neg: np.ndarray) -> float:
    return float((pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gold", type=Path, required=True)
    ap.add_argument("--mode", choices=("single", "corpus", "both"), default="both")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scope", choices=("pooled", "per-language"), default="pooled",
                    help="corpus mode: all languages in one corpus, or one corpus per language")
    args = ap.parse_args()
    items, _ = gold_corpus.load_gold(args.gold)
    for mode in (("single", "corpus") if args.mode == "both" else (args.mode,)):
        run(items, mode, args.seed, args.scope)


if __name__ == "__main__":
    main()
