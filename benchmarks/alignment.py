"""Benchmark of the built-in aligner on gold phone boundaries (real human speech and synthetic speech).

Real speech: any corpus of audio + TextGrid pairs (tiers ``words``/``phones`` or ``word``/``phone``),
scored with the project convention (start of every non-silent phone + end of the last one).

    python benchmarks/alignment.py --gold /work/shared/devdata/voxangeles_dev --langs haw,ibo,kea,lad,mal,tzm
    python benchmarks/alignment.py --synthetic
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gold_corpus import GoldItem, load_gold, transcript_of  # noqa: E402 - beside this script

TUNE_LANGS = ("aeb", "ben", "ces", "ell", "eus", "hak")
HELD_OUT_LANGS = ("haw", "ibo", "kea", "lad", "mal", "tzm")


def gold_from_synthetic(x) -> GoldItem:
    al = x.alignment
    words = []
    for w in al.words:
        ps = [(p.label, p.start, p.end) for p in al.phones_of(w)]
        if ps:
            words.append((w.label, ps))
    return GoldItem(x.key, x.lang, x.audio, x.sample_rate, words)


def predicted_boundaries(alignment) -> np.ndarray:
    ph = alignment.phones.intervals
    return np.array([p.start for p in ph] + [ph[-1].end])


def summarize(errors: np.ndarray, durations: np.ndarray | None = None) -> dict:
    """Boundary-error shares; with ``durations`` (predicted phone lengths, s) also the share of
    impossibly short phones (< 10 ms and < 20 ms), which the boundary scores do not see."""
    e = np.abs(errors) * 1000
    out = {"n": int(len(e)), "10ms": float(np.mean(e <= 10)), "20ms": float(np.mean(e <= 20)),
           "25ms": float(np.mean(e <= 25)), "50ms": float(np.mean(e <= 50)),
           "median_ms": float(np.median(e)), "mean_ms": float(np.mean(e))}
    if durations is not None and len(durations):
        d = np.asarray(durations) * 1000
        out["short10"] = float(np.mean(d < 10 - 1e-6))
        out["short20"] = float(np.mean(d < 20 - 1e-6))
    return out


def print_table(title: str, rows: dict[str, dict]) -> None:
    print(f"\n{title}")
    print(f"{'set':<12}{'n':>6}{'<=10ms':>8}{'<=20ms':>8}{'<=25ms':>8}{'<=50ms':>8}{'median':>8}{'mean':>8}"
          f"{'ph<10ms':>9}{'ph<20ms':>9}")
    for name, r in rows.items():
        cells = [f"{r[k]:>8.3f}" if k in r else f"{'-':>8}" for k in ("10ms", "20ms", "25ms", "50ms")]
        cells += [f"{r[k]:>8.1f}" if k in r else f"{'-':>8}" for k in ("median_ms", "mean_ms")]
        cells += [f"{r[k]:>9.4f}" if k in r else f"{'-':>9}" for k in ("short10", "short20")]
        print(f"{name:<12}{r['n']:>6}{''.join(cells)}")


def run_aligner(items, aligner, mode: str):
    """Returns (alignments, wall seconds). mode: corpus (pooled adaptation) or single (each file alone)."""
    t0 = time.perf_counter()
    if mode == "corpus":
        prepared = [aligner.prepare(it.audio, it.sr, transcript_of(it, it.lang)) for it in items]
        params = aligner.adapt(prepared)
        out = aligner.decode_many(prepared, params)
    else:
        out = [aligner.align(it.audio, it.sr, transcript_of(it, it.lang)) for it in items]
    return out, time.perf_counter() - t0


def evaluate(items, alignments, calibrate_raw=False):
    """Per-language rows, "ALL", and "gold" (the gold phones' own short-phone shares, for reference)."""
    per_lang, durs, gold_durs = defaultdict(list), defaultdict(list), []
    for it, al in zip(items, alignments):
        gold, pred = it.boundaries(), predicted_boundaries(al)
        per_lang[it.lang].append(pred - gold)
        durs[it.lang].append(np.array([p.end - p.start for p in al.phones.intervals]))
        gold_durs += [p[2] - p[1] for _, ps in it.words for p in ps]
    rows = {lang: summarize(np.concatenate(v), np.concatenate(durs[lang])) for lang, v in sorted(per_lang.items())}
    rows["ALL"] = summarize(np.concatenate([np.concatenate(v) for v in per_lang.values()]),
                            np.concatenate([np.concatenate(v) for v in durs.values()]))
    g = np.array(gold_durs) * 1000
    rows["gold phones"] = {"n": len(g), "short10": float(np.mean(g < 10 - 1e-6)), "short20": float(np.mean(g < 20 - 1e-6))}
    return rows


def store_calibration(convention: str, offsets: dict[str, float], source: str) -> None:
    from visemes.alignment.builtin.calibration import calibration_json, read_calibration_file
    from visemes.core.atomic import atomic_write_text

    data = read_calibration_file()
    data["offsets"][convention] = offsets
    data.setdefault("sources", {})[convention] = source
    path = Path(__file__).resolve().parents[1] / "alignment" / "builtin" / "data" / "calibration.json"
    atomic_write_text(path, calibration_json(data["offsets"], data["sources"]) + "\n", overwrite=True)
    os.chmod(path, 0o644)
    print(f"stored {len(offsets)} {convention} offsets ({source}) in {path}: {offsets}")


def fit_calibration(items, alignments, min_count: int = 20) -> dict[str, float]:
    """Median (gold - predicted) per boundary type, for types seen >= min_count times."""
    from visemes.alignment.builtin.calibration import boundary_types

    by_type = defaultdict(list)
    for it, al in zip(items, alignments):
        syms = [p.label for p in al.phones]
        st = np.array([round(p.start / 0.005) for p in al.phones])
        en = np.array([round(p.end / 0.005) for p in al.phones])
        start_t, end_t = boundary_types(syms, st, en)
        gold = it.boundaries()
        pred = predicted_boundaries(al)
        for i, t in enumerate(start_t):
            by_type[t].append(gold[i] - pred[i])
        by_type[end_t[-1]].append(gold[-1] - pred[-1])
    return {t: round(float(np.median(v)), 4) for t, v in sorted(by_type.items()) if len(v) >= min_count}


def run_long(minutes: float, cfg) -> dict:
    """One long recording aligned in one call: accuracy near chunk joins vs elsewhere, peak memory, speed."""
    import resource
    from dataclasses import replace

    from visemes.alignment.builtin import BuiltinAligner
    from visemes.alignment.builtin.synthetic import BENCH_CONDITIONS, BENCH_LANGS, iter_set

    pieces, seed = [], 0
    total = 0.0
    while total < minutes * 60:
        for x in iter_set(BENCH_LANGS, BENCH_CONDITIONS, seed=100 + seed):
            pieces.append(gold_from_synthetic(x))
            total += len(x.audio) / x.sample_rate
            if total >= minutes * 60:
                break
        seed += 1
    sr = pieces[0].sr
    audio = np.concatenate([p.audio for p in pieces])
    words, offset = [], 0.0
    for p in pieces:
        words += [(w, [(s, a + offset, b + offset) for s, a, b in ps]) for w, ps in p.words]
        offset += len(p.audio) / sr
    item = GoldItem("long", "mixed", audio, sr, words)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    al = BuiltinAligner(replace(cfg, convention="espeak")).align(audio, sr, transcript_of(item))
    wall = time.perf_counter() - t0
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    err = predicted_boundaries(al) - item.boundaries()
    gold = item.boundaries()
    joins = np.array(al.meta.get("chunk_starts", [0.0])[1:] or [-1e9])
    near = np.min(np.abs(gold[:, None] - joins[None, :]), axis=1) < 1.0
    rows = {"near joins": summarize(err[near]) if near.any() else summarize(np.zeros(1)),
            "elsewhere": summarize(err[~near]), "ALL": summarize(err)}
    print_table(f"long audio: {len(audio) / sr / 60:.1f} min in one call, {al.meta.get('chunks', 1)} chunks "
                f"(words {len(words)}, boundaries within 1 s of a join: {int(near.sum())})", rows)
    print(f"speed: {len(audio) / sr / wall:.0f}x real time; peak RSS {rss1:.0f} MiB (before: {rss0:.0f} MiB; "
          f"audio array alone {audio.nbytes / 2**20:.0f} MiB)")
    return {"rows": rows, "wall_s": wall, "peak_rss_mib": rss1, "chunks": al.meta.get("chunks", 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gold", type=Path, action="append", default=[], help="gold corpus folder (repeatable)")
    ap.add_argument("--langs", default="", help="comma-separated language folders to use (default: all)")
    ap.add_argument("--mode", choices=("corpus", "single"), default="corpus")
    ap.add_argument("--synthetic", action="store_true", help="also run the synthetic multilingual set")
    ap.add_argument("--fit-calibration", choices=("phonetic", "espeak"), default=None,
                    help="measure per-boundary-type offsets (phonetic: on --gold; espeak: on the synthetic prior set) "
                         "and store them in alignment/builtin/data/calibration.json")
    ap.add_argument("--convention", choices=("phonetic", "espeak", "none"), default=None,
                    help="boundary convention to calibrate to (default: phonetic for --gold, espeak for --synthetic)")
    ap.add_argument("--no-calibration", action="store_true")
    ap.add_argument("--no-prior", action="store_true")
    ap.add_argument("--config", default="", help="AlignerConfig overrides, e.g. iterations=4,sil_penalty=1")
    ap.add_argument("--warm-rerun", action="store_true", help="align the corpus again to time it without JIT warm-up")
    ap.add_argument("--long-minutes", type=float, default=0.0,
                    help="also align one long file: synthetic utterances (benchmark languages) concatenated")
    ap.add_argument("--compile-cache", type=Path, default=None,
                    help="JAX persistent compilation cache directory (opt-in; a second run loads the programs)")
    ap.add_argument("--json", type=Path, default=None, help="write all results as JSON here")
    args = ap.parse_args(argv)

    t_import = time.perf_counter()
    from visemes.alignment.builtin import AlignerConfig, BuiltinAligner, enable_compile_cache

    if args.compile_cache:
        enable_compile_cache(args.compile_cache)
    overrides = {}
    weights = {}
    for kv in filter(None, args.config.split(",")):
        k, v = kv.split("=")
        if k.startswith("w_"):  # MAP weights, e.g. w_phone=100
            weights[k[2:]] = float(v)
            continue
        field_type = type(getattr(AlignerConfig(), k))
        overrides[k] = (v.lower() in ("1", "true", "yes")) if field_type is bool else field_type(v)
    if weights:
        from visemes.alignment.builtin.hmm import MapWeights

        overrides["weights"] = MapWeights(**weights)
    cfg = AlignerConfig(use_calibration=not (args.no_calibration or args.fit_calibration), use_prior=not args.no_prior,
                        convention=args.convention or "phonetic", **overrides)
    import_s = time.perf_counter() - t_import
    results = {"config": repr(cfg), "cores": os.cpu_count()}
    langs = set(filter(None, args.langs.split(","))) or None
    for root in args.gold:
        items, skipped = load_gold(root, langs)
        for s in skipped:
            print(f"skipped {s}")
        if not items:
            print(f"no gold items under {root}")
            continue
        aligner = BuiltinAligner(cfg)
        alignments, wall = run_aligner(items, aligner, args.mode)
        audio_s = sum(len(it.audio) / it.sr for it in items)
        rows = evaluate(items, alignments)
        print_table(f"{root.name} ({args.mode} mode, langs={','.join(sorted({it.lang for it in items}))})", rows)
        print(f"speed: {audio_s:.1f} s audio in {wall:.2f} s wall (JIT warm-up included; +{import_s:.2f} s import) "
              f"= {audio_s / wall:.0f}x real time on {os.cpu_count()} cores")
        results[str(root)] = {"rows": rows, "audio_s": audio_s, "wall_s": wall, "speed_x": audio_s / wall}
        if args.warm_rerun:
            _, wall2 = run_aligner(items, aligner, args.mode)
            print(f"warm re-run in the same process (compiled programs reused): {wall2:.2f} s = "
                  f"{audio_s / wall2:.0f}x real time")
            results[str(root)]["warm_speed_x"] = audio_s / wall2
        if args.fit_calibration == "phonetic":
            store_calibration("phonetic", fit_calibration(items, alignments),
                              f"{root.name} languages {','.join(sorted({it.lang for it in items}))}")
    if args.fit_calibration == "espeak":
        from visemes.alignment.builtin.make_prior import PRIOR_CONDITIONS
        from visemes.alignment.builtin.synthetic import PRIOR_LANGS, iter_set

        items = [gold_from_synthetic(x) for x in iter_set(PRIOR_LANGS, PRIOR_CONDITIONS, seed=11)]
        alignments, _ = run_aligner(items, BuiltinAligner(cfg), "single")
        store_calibration("espeak", fit_calibration(items, alignments, min_count=10),
                          "synthetic espeak-ng speech, prior languages " + ",".join(PRIOR_LANGS))
    if args.synthetic:
        from visemes.alignment.builtin.synthetic import BENCH_CONDITIONS, BENCH_LANGS, iter_set

        t0 = time.perf_counter()
        items = [gold_from_synthetic(x) for x in iter_set(BENCH_LANGS, BENCH_CONDITIONS, seed=1)]
        print(f"\nsynthesised {len(items)} utterances in {time.perf_counter() - t0:.1f} s "
              f"(conditions: {', '.join(repr(c) for c in BENCH_CONDITIONS)})")
        from dataclasses import replace

        aligner = BuiltinAligner(replace(cfg, convention=args.convention or "espeak"))
        alignments, wall = run_aligner(items, aligner, args.mode)
        audio_s = sum(len(it.audio) / it.sr for it in items)
        rows = evaluate(items, alignments)
        print_table(f"synthetic espeak-ng ({args.mode} mode; languages and conditions used by no tuning)", rows)
        print(f"speed: {audio_s:.1f} s audio in {wall:.2f} s wall = {audio_s / wall:.0f}x real time")
        results["synthetic"] = {"rows": rows, "audio_s": audio_s, "wall_s": wall}
    if args.long_minutes:
        results["long"] = run_long(args.long_minutes, cfg)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
