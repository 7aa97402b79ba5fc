"""End-to-end speed and memory of the animate job: preview rendering, `visemes demo`, and one long file
through the corpus runner (peak memory).

    python benchmarks/animate_e2e.py preview --seconds 10 --fps 30
    python benchmarks/animate_e2e.py demo [--no-model]
    python benchmarks/animate_e2e.py long --minutes 10 [--no-model] [--formats json,csv] [--timings]

``preview``: frames rendered per second by the numpy rasterizer (no encoding), and the wall time of
writing the MP4 with audio (render + ffmpeg). ``demo``: wall time of ``visemes demo`` in a fresh process
(JIT included). ``long``: a file of espeak-ng speech tiled to the length asked for, animated in a fresh
process as a corpus worker does; prints wall time and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != _HERE]

PARAGRAPH = ("The quick brown fox jumps over the lazy dog. She sells sea shells by the sea shore. "
             "Peter Piper picked a peck of pickled peppers. How much wood would a woodchuck chuck.")


def bench_preview(seconds: float, fps: float, repeats: int) -> None:
    import numpy as np

    from visemes.core.articulation import ARTICULATION_PARAMS
    from visemes.core.curves import FrameCurves
    from visemes.formats.preview import PreviewPanel, iter_frames, write_preview

    n = int(seconds * fps) + 1
    t = np.arange(n) / fps
    values = np.stack([0.5 + 0.5 * np.sin(2 * np.pi * t * (0.7 + 0.3 * i)) for i in range(9)], axis=1)
    panel = PreviewPanel(FrameCurves(fps, ARTICULATION_PARAMS, values), "bench")
    render = []
    for _ in range(repeats):
        start = time.perf_counter()
        count = sum(1 for _ in iter_frames([panel]))
        render.append(time.perf_counter() - start)
    sr = 16000
    audio = (0.1 * np.sin(2 * np.pi * 220 * np.arange(int(seconds * sr)) / sr)).astype(np.float32)
    mp4 = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(repeats):
            start = time.perf_counter()
            write_preview(Path(tmp) / f"p{k}.mp4", panel, audio, sr)
            mp4.append(time.perf_counter() - start)
    med_r, med_m = sorted(render)[len(render) // 2], sorted(mp4)[len(mp4) // 2]
    print("| clip | frames | render s (median) | frames/s | MP4 with audio s (median) |")
    print("|---|---:|---:|---:|---:|")
    print(f"| {seconds:g} s at {fps:g} fps, 320x240 | {count} | {med_r:.2f} | {count / med_r:.0f} | {med_m:.2f} |")


def bench_demo(no_model: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "visemes.cli.main", "demo", "-o", str(Path(tmp) / "demo")]
        if no_model:
            cmd.append("--no-model")
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=_HERE.parent)
        wall = time.perf_counter() - start
    print(proc.stdout.strip())
    if proc.returncode:
        print(proc.stderr.strip())
    print(f"\n| command | exit | wall s |\n|---|---:|---:|\n| `visemes demo{' --no-model' if no_model else ''}` "
          f"| {proc.returncode} | {wall:.1f} |")


_LONG_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from visemes.pipeline.jobs import AnimateOptions, animate_corpus
src, out, use_model, formats = sys.argv[1], sys.argv[2], sys.argv[3] == "1", tuple(sys.argv[4].split(","))
start = time.perf_counter()
report = animate_corpus(src, out, AnimateOptions(lang="en-US", use_model=use_model, formats=formats), jobs=1)
wall = time.perf_counter() - start
print(json.dumps({"wall": wall, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "failed": [o.to_dict() for o in report.failed]}))
"""


def _tiled_alignment(spoken, reps: int, pause: float):
    """espeak-ng's own words/phones timing repeated ``reps`` times with ``pause`` s between copies."""
    from visemes.core.timeline import Alignment, Tier

    step = spoken.duration + pause
    tiers = []
    for name in ("words", "phones"):
        tier = spoken.alignment.tier(name)
        tiers.append(Tier(name, tuple(iv.shifted(k * step) for k in range(reps) for iv in tier)))
    return Alignment(tuple(tiers), reps * step, {"lang": spoken.alignment.meta.get("lang")})


def bench_long(minutes: float, no_model: bool, formats: str, timings: bool) -> None:
    import numpy as np
    import soundfile as sf

    from visemes.speech.synthesis import speak

    spoken = speak(PARAGRAPH, "en-US")
    reps = max(1, int(np.ceil(minutes * 60 / spoken.duration)))
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in"
        src.mkdir()
        pause = np.zeros(int(0.3 * spoken.sample_rate), np.float32)
        with sf.SoundFile(src / "long.wav", "w", spoken.sample_rate, 1, "PCM_16") as fh:
            for _ in range(reps):  # streamed: the benchmark itself never holds the hour in memory
                fh.write(spoken.audio)
                fh.write(pause)
        if timings:  # given timings: measures everything but the aligner
            from visemes.formats import write_one

            write_one(_tiled_alignment(spoken, reps, len(pause) / spoken.sample_rate), src / "long.TextGrid", "textgrid")
        else:
            (src / "long.txt").write_text(" ".join([PARAGRAPH] * reps), encoding="utf-8")
        seconds = sf.info(src / "long.wav").duration
        cmd = [sys.executable, "-c", _LONG_CHILD, str(src), str(Path(tmp) / "out"), "0" if no_model else "1", formats]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=_HERE.parent)
        if proc.returncode:
            print(proc.stderr[-3000:])
            return
        res = json.loads(proc.stdout.strip().splitlines()[-1])
    print("| audio | timing | curves | formats | wall s | x real time | peak RSS MB | failed |")
    print("|---|---|---|---|---:|---:|---:|---|")
    print(f"| {seconds / 60:.1f} min | {'given TextGrid' if timings else 'aligned'} | "
          f"{'coarticulation' if no_model else 'model'} | {formats} | {res['wall']:.1f} | "
          f"{seconds / res['wall']:.1f} | {res['peak_mb']:.0f} | {res['failed'] or 'none'} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="what", required=True)
    pp = sub.add_parser("preview")
    pp.add_argument("--seconds", type=float, default=10.0)
    pp.add_argument("--fps", type=float, default=30.0)
    pp.add_argument("--repeats", type=int, default=3)
    pd = sub.add_parser("demo")
    pd.add_argument("--no-model", action="store_true")
    pl = sub.add_parser("long")
    pl.add_argument("--minutes", type=float, default=10.0)
    pl.add_argument("--no-model", action="store_true")
    pl.add_argument("--formats", default="json,csv,textgrid")
    pl.add_argument("--timings", action="store_true", help="give espeak's timings as a TextGrid (skips the aligner)")
    args = p.parse_args()
    if args.what == "preview":
        bench_preview(args.seconds, args.fps, args.repeats)
    elif args.what == "demo":
        bench_demo(args.no_model)
    else:
        bench_long(args.minutes, args.no_model, args.formats, args.timings)


if __name__ == "__main__":
    main()
