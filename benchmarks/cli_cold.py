"""Cold-process speed of the CLI: ``visemes align-corpus`` on a gold corpus and ``visemes align`` on one short
file, each a fresh Python process timed from launch to exit (start-up, imports, JIT compilation, exports).

Checkouts are compared in the same run (``--checkout`` repeatable, runs interleaved so that the shared
machine's load hits each alike): each is run from its own folder, where ``python -m visemes`` resolves
to that checkout. Per checkout and cache state, the median of ``--runs`` wall times is reported with
the load average seen during those runs. Cache states: ``off`` (``VISEMES_COMPILE_CACHE=0``: every run
compiles), ``first`` (an empty cache folder per run: the first run on a new machine) and ``warm`` (a cache
folder a first run filled: every later run). A checkout whose CLI has no cache compiles in all three.

    python benchmarks/cli_cold.py /work/shared/devdata/voxangeles_dev --checkout /work/main --checkout . --runs 3
    python benchmarks/cli_cold.py /work/shared/devdata/voxangeles_dev --langs haw,ibo,kea,lad,mal,tzm --single-file ""
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and benchmarks/alignment.py would shadow the
# alignment package: the repository root first, this folder last (for align_corpus.py beside it).
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != _HERE] + [str(_HERE)]

from align_corpus import build_corpus  # noqa: E402 - beside this script

STATES = ("off", "first", "warm")


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds of one fresh process, its CPU seconds (user + system: less sensitive to the machine's
    load than the wall time) and the 1-minute load average just after it."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode not in (0, 1):  # 1: some file failed (reported by the run itself)
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd}:\n{out.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, os.getloadavg()[0]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("gold", type=Path, help="gold corpus: <lang>/<name>.flac|.wav + <name>.TextGrid")
    ap.add_argument("--langs", default="", help="comma-separated sub-folders to use (default: all)")
    ap.add_argument("--checkout", type=Path, action="append", default=[],
                    help="repository checkout to run (repeatable; default: this one)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--states", default=",".join(STATES), help=f"cache states to time ({', '.join(STATES)})")
    ap.add_argument("--jobs", default="1", help="--jobs of align-corpus")
    ap.add_argument("--single-file", default="english_praatio/mary.wav",
                    help="short file under the gold corpus's parent folder for `visemes align` ('' = skip)")
    ap.add_argument("--single-text", default="mary rolled the barrel")
    ap.add_argument("--single-lang", default="en")
    args = ap.parse_args(argv)

    checkouts = [c.resolve() for c in (args.checkout or [_HERE.parent])]
    states = [s for s in args.states.split(",") if s]
    langs = [x for x in args.langs.split(",") if x] or None
    python = sys.executable
    rows: dict[tuple[str, str, str], list[tuple[float, float, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="visemes-bench-cold-") as tmp_name:
        tmp = Path(tmp_name)
        corpus = tmp / "corpus"
        n = build_corpus(args.gold, langs, corpus)
        import soundfile as sf

        audio_s = sum(sf.info(str(p)).duration for p in corpus.rglob("*") if p.suffix in (".flac", ".wav"))
        single = args.gold.resolve().parent / args.single_file if args.single_file else None
        single_s = sf.info(str(single)).duration if single else 0.0
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_", "VISEMES_COMPILE"))}
        base_env.update(JAX_PLATFORMS="cpu", MPLBACKEND="Agg")
        warm_dirs = {}
        for c in checkouts:  # fill each checkout's warm cache once (not timed)
            warm_dirs[c] = tmp / f"warm-{len(warm_dirs)}"
            env = {**base_env, "VISEMES_COMPILE_CACHE": str(warm_dirs[c])}
            _run([python, "-m", "visemes.cli.main", "align-corpus", str(corpus), str(tmp / "fill"), "--ipa",
                  "--follow-symlinks", "--no-progress", "--jobs", args.jobs, "--overwrite"], c, env)
            if single:
                _run([python, "-m", "visemes.cli.main", "align", str(single), "--text", args.single_text, "--lang",
                      args.single_lang, "-o", str(tmp / "fill.TextGrid"), "--overwrite"], c, env)
        for run in range(args.runs):
            for state in states:
                for c in checkouts:
                    env = dict(base_env)
                    if state == "off":
                        env["VISEMES_COMPILE_CACHE"] = "0"
                    elif state == "first":
                        env["VISEMES_COMPILE_CACHE"] = str(tmp / f"first-{run}-{c.name}")
                    else:
                        env["VISEMES_COMPILE_CACHE"] = str(warm_dirs[c])
                    out = tmp / f"out-{run}-{state}-{c.name}"
                    rows.setdefault((str(c), state, "align-corpus"), []).append(_run(
                        [python, "-m", "visemes.cli.main", "align-corpus", str(corpus), str(out), "--ipa",
                         "--follow-symlinks", "--no-progress", "--jobs", args.jobs], c, env))
                    if single:
                        if state == "first":
                            env["VISEMES_COMPILE_CACHE"] = str(tmp / f"first1-{run}-{c.name}")
                        rows.setdefault((str(c), state, "align"), []).append(_run(
                            [python, "-m", "visemes.cli.main", "align", str(single), "--text", args.single_text,
                             "--lang", args.single_lang, "-o", str(out) + ".TextGrid"], c, env))
    print(f"corpus: {n} files, {audio_s:.1f} s of audio from {args.gold} ({args.langs or 'all folders'}), "
          f"--jobs {args.jobs}; single file: {single} ({single_s:.2f} s); {os.cpu_count()} cores; "
          f"median of {args.runs} fresh processes, launch to exit")
    print(f"{'checkout':<24}{'cache':<7}{'command':<14}{'median s':>9}{'min s':>7}{'max s':>7}{'x real time':>12}"
          f"{'CPU s':>7}{'x (CPU)':>8}{'load':>12}")
    for (c, state, command), vals in rows.items():
        walls = [w for w, _, _ in vals]
        cpus = [u for _, u, _ in vals]
        loads = [ld for _, _, ld in vals]
        med, cpu = statistics.median(walls), statistics.median(cpus)
        audio = audio_s if command == "align-corpus" else single_s
        print(f"{Path(c).name:<24}{state:<7}{command:<14}{med:>9.2f}{min(walls):>7.2f}{max(walls):>7.2f}"
              f"{audio / med:>12.1f}{cpu:>7.2f}{audio / cpu:>8.1f}{min(loads):>6.1f}-{max(loads):<5.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
