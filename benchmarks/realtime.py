"""Real time and ONNX (issue 14): streaming from TTS events, and the portable model (prints a table).

    python benchmarks/realtime.py                      # ~2 min on one core
    python benchmarks/realtime.py --langs it,nl --sentences 3 --skip-onnx

Everything runs on ONE CPU core: the process pins itself to core 0 (what ``taskset -c 0`` does) before
JAX starts, XLA gets one intra-op thread and onnxruntime sessions one thread.

Streaming: espeak-ng speech of sentences (pack samples or frequent words, as the teacher data) in languages the model's benchmark holds out
(``HELDOUT_LANGS``), its phoneme events fed to :class:`visemes.pipeline.stream.EventStream` on a 10 ms
clock (each hop: the onsets that arrived, then ``tick``). Reported: wall and CPU time per hop (p50/p95, all
hops and hops that emitted frames), algorithmic latency per frame (``ready_at - time``), and the
largest difference from offline ``predict`` on the same phones.

Audio live: the same speech as audio, in 10 ms blocks through :class:`visemes.pipeline.live_audio.AudioStream`
(the ``visemes live --wav/--mic`` path): CPU time per block, latency, and agreement with recognising
each whole utterance at once.

ONNX: float32 and int8 (onnxruntime dynamic quantization) graphs of the model: size, latency for
10 s of speech at batch 1 (320 frames) and for one streaming window, against compiled JAX; error
against JAX (float32) and the int8 gate (curves vs float32 on held-out sentences).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
HOP_S = 0.01


def pin_one_core() -> str:
    """Pin to one core before JAX/onnxruntime start their thread pools."""
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                               " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
        return f"pinned to core {sorted(os.sched_getaffinity(0))}"
    return "XLA flags for one thread (no sched_setaffinity here)"


def pct(values, q) -> float:
    return float(np.percentile(np.asarray(values, np.float64), q))


def streaming_rows(model, langs, n_sentences, fps):
    """``model``: the neural model, or None for the coarticulation rules."""
    # imported here, after pin_one_core: JAX reads XLA_FLAGS and sizes its thread pool at import
    from visemes import lang_packs
    from visemes.core.timeline import Alignment, Interval, Tier
    from visemes.models.teacher import texts_for
    from visemes.pipeline.stream import EventStream, as_arrays
    from visemes.pipeline.tts_events import espeak_event_lines, read_onsets
    from visemes.mouth.coarticulation import animate_phones
    from visemes.speech.synthesis import synthesize

    hops_all, hops_emit, latency, errors, seconds = [], [], [], [], 0.0
    cpu_all, cpu_emit = [], []  # CPU time of the process (all threads) per hop: what the hop costs a core
    for lang in langs:
        pack = lang_packs.load(lang)
        for text in texts_for(lang, pack, n_sentences, np.random.default_rng(7)):
            audio, sr, events = synthesize(pack.spoken_text(text), pack.voice)
            onsets = read_onsets("\n".join(espeak_event_lines(events, sr, len(audio))), "espeak")
            end = onsets[-1].time
            seconds += end
            s = EventStream(model, fps, lang=lang)
            frames, i, clock = [], 0, 0.0
            while clock < end:
                clock = min(clock + HOP_S, end)
                t0, c0 = time.perf_counter(), time.process_time()
                out = []
                while i < len(onsets) - 1 and onsets[i].time <= clock:
                    out += s.feed(onsets[i])
                    i += 1
                out += s.tick(clock)
                dt, dc = time.perf_counter() - t0, time.process_time() - c0
                hops_all.append(dt)
                cpu_all.append(dc)
                if out:
                    hops_emit.append(dt)
                    cpu_emit.append(dc)
                frames += out
            frames += s.finish(end)
            phones = tuple(Interval(a.time, b.time, a.phone) for a, b in zip(onsets, onsets[1:])
                           if a.phone and b.time > a.time)
            alignment = Alignment((Tier("phones", phones),), end, {"lang": lang})
            offline = (model.predict(alignment, fps) if model is not None
                       else animate_phones(alignment.phones, pack, fps, end))
            got = as_arrays(frames)
            errors.append(max(np.abs(got[k] - getattr(offline, k).values).max()
                              for k in ("visemes", "blendshapes", "articulation")))
            latency += [f.ready_at - f.time for f in frames if f.ready_at < end]
    return hops_all, hops_emit, latency, errors, seconds, cpu_all, cpu_emit


def audio_rows(model, langs, n_sentences, fps):
    """The audio-only live path (``visemes live --wav/--mic``): the same espeak-ng speech as audio,
    fed in 10 ms blocks to :class:`visemes.pipeline.live_audio.AudioStream`; against recognising each
    whole utterance at once (``animate`` without text)."""
    from visemes import lang_packs
    from visemes.models.teacher import texts_for
    from visemes.pipeline.animator import audio_only_timings
    from visemes.pipeline.live_audio import AudioStream, wav_blocks
    from visemes.pipeline.stream import as_arrays
    from visemes.speech.synthesis import synthesize

    cpu_hops, latency, agree, seconds = [], [], [], 0.0
    for lang in langs:
        pack = lang_packs.load(lang)
        for text in texts_for(lang, pack, n_sentences, np.random.default_rng(7)):
            audio, sr, _ = synthesize(pack.spoken_text(text), pack.voice)
            seconds += len(audio) / sr
            s = AudioStream(model, sr, fps, lang=lang)
            frames = []
            for block in wav_blocks(audio, sr, speed=0):
                c0 = time.process_time()
                frames += s.feed(block)
                cpu_hops.append(time.process_time() - c0)
            frames += s.finish()
            latency += [f.ready_at - f.time for f in frames if f.ready_at < len(audio) / sr]
            whole = model.predict(audio_only_timings(audio, sr, pack), fps)
            live = as_arrays(frames)["visemes"].argmax(1)
            agree.append(float(np.mean(live == whole.visemes.values.argmax(1))))
    return cpu_hops, latency, agree, seconds


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="model .safetensors (default: shipped)")
    ap.add_argument("--langs", default=None, help="comma-separated (default: the first 4 held-out languages)")
    ap.add_argument("--sentences", type=int, default=2, help="sentences per language")
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--skip-onnx", action="store_true")
    args = ap.parse_args(argv)
    where = pin_one_core()
    # everything that imports JAX or onnxruntime comes after pinning (flags and thread pools are set at import)
    import jax

    from visemes import models
    from visemes.models.inputs import collate
    from visemes.models.inputs import window as crop
    from visemes.models.recipes.train_base import HELDOUT_LANGS

    model = models.load(args.model)
    langs = [c for c in (args.langs.split(",") if args.langs else HELDOUT_LANGS[:4]) if c]
    rows = []

    def row(name, value, target=""):
        rows.append((name, value, target))

    row("cores", f"1 ({where})")
    row("model", f"{model.cfg.name}, {model.n_params} parameters, fingerprint {model.fingerprint}")
    # warm-up: compile the streaming window once
    from visemes.pipeline.stream import EventStream
    from visemes.pipeline.tts_events import Onset

    warm = EventStream(model, args.fps)
    warm.predictor.warm()  # every step size, as a live application would at start-up
    warm.feed(Onset(0.0, "a"))
    warm.finish(1.0)
    hops, emit, lat, err, secs, cpu, cpu_emit = streaming_rows(model, langs, args.sentences, args.fps)
    row("streaming: speech", f"{secs:.1f} s, {len(err)} utterances ({', '.join(langs)}), {len(hops)} hops of 10 ms")
    row("streaming: wall time per hop p50 / p95 (all hops)", f"{1e3 * pct(hops, 50):.3f} / {1e3 * pct(hops, 95):.3f} ms",
        "p95 <= 2 ms")
    row("streaming: wall time per hop p50 / p95 (hops emitting frames)",
        f"{1e3 * pct(emit, 50):.2f} / {1e3 * pct(emit, 95):.2f} ms", "p95 <= 2 ms")
    row("streaming: CPU time per hop p50 / p95, all hops / hops emitting frames",
        f"{1e3 * pct(cpu, 50):.3f} / {1e3 * pct(cpu, 95):.3f} ms / {1e3 * pct(cpu_emit, 50):.2f} / "
        f"{1e3 * pct(cpu_emit, 95):.2f} ms", "p95 <= 2 ms")
    row("load average (1 min) during the run", f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", "")
    row("streaming: real-time factor (compute / speech)", f"{sum(hops) / secs:.3f}", "< 1")
    row("streaming: lookahead", f"{1e3 * model.cfg.lookahead_s:.0f} ms", "<= 80 ms")
    row("streaming: algorithmic latency p50 / p95 / max", f"{1e3 * pct(lat, 50):.0f} / {1e3 * pct(lat, 95):.0f} / "
        f"{1e3 * max(lat):.0f} ms", "lookahead + rest of the phone under it")
    row("streaming: max |stream - offline| (any curve)", f"{max(err):.1e}", "<= 1e-4")
    hops, emit, lat, err, secs, cpu, cpu_emit = streaming_rows(None, langs, args.sentences, args.fps)
    row("rules stream (coarticulation, 80 ms): wall time per hop p50 / p95 (all hops)",
        f"{1e3 * pct(hops, 50):.3f} / {1e3 * pct(hops, 95):.3f} ms", "p95 <= 2 ms")
    row("rules stream: wall time per hop p50 / p95 (hops emitting frames)",
        f"{1e3 * pct(emit, 50):.2f} / {1e3 * pct(emit, 95):.2f} ms", "")
    row("rules stream: algorithmic latency p50 / p95 / max", f"{1e3 * pct(lat, 50):.0f} / {1e3 * pct(lat, 95):.0f} / "
        f"{1e3 * max(lat):.0f} ms", "")
    row("rules stream: max |stream - offline| per utterance, median / max (any curve)",
        f"{np.median(err):.3f} / {max(err):.3f}", "approximation (exact at 0.7 s lookahead)")

    warm_audio = audio_rows(model, langs[:1], 1, args.fps)  # compiles the recogniser's shapes once
    cpu, lat, agree, secs = audio_rows(model, langs, args.sentences, args.fps)
    row("audio live (--wav/--mic path): speech", f"{secs:.1f} s, {len(agree)} utterances, {len(cpu)} blocks of 10 ms "
        f"(after a warm-up pass of {warm_audio[3]:.1f} s)")
    row("audio live: CPU time per block p50 / p95 / max", f"{1e3 * pct(cpu, 50):.3f} / {1e3 * pct(cpu, 95):.3f} / "
        f"{1e3 * max(cpu):.0f} ms", "the block closing a segment recognises it")
    row("audio live: real-time factor (CPU / speech)", f"{sum(cpu) / secs:.3f}", "< 1")
    row("audio live: algorithmic latency p50 / p95 / max", f"{1e3 * pct(lat, 50):.0f} / {1e3 * pct(lat, 95):.0f} / "
        f"{1e3 * max(lat):.0f} ms", "segment end (pause or 2 s) + lookahead")
    row("audio live: same viseme as whole-utterance recognition, per frame (mean over utterances)",
        f"{100 * np.mean(agree):.1f} %", "")

    if not args.skip_onnx:
        from visemes.models import onnx_export as ox

        items = ox.heldout_inputs(model, 2)
        t0 = time.perf_counter()
        f32_blob = ox.to_onnx(model)
        row("onnx: conversion (jax2onnx)", f"{time.perf_counter() - t0:.1f} s")
        int8_blob = ox.quantize_int8(f32_blob)
        f32, int8 = ox.session(f32_blob, threads=1), ox.session(int8_blob, threads=1)
        weights = sum(a.nbytes for a in model.base_arrays.values())
        row("onnx: size float32 / int8 (safetensors weights)",
            f"{len(f32_blob) / 1e6:.2f} / {len(int8_blob) / 1e6:.2f} MB ({weights / 1e6:.2f} MB)")
        err32 = max(ox.max_abs_error(ox.jax_outputs(model, b), ox.run_session(f32, b), b["frame_mask"])
                    for b in ox.batches(items))
        row("onnx float32: max |onnx - jax| (held-out speech, all outputs)", f"{err32:.1e}", "<= 1e-4")
        gate = ox.int8_gate(f32, int8, items)
        row("onnx int8 gate vs float32 (held-out speech)", gate.describe(), "passed" if gate.passed else "FAILED")
        long = collate([ox.heldout_inputs(model, 1, langs[:1])[0]], n_frames=320, n_phones=128)
        wf = 64  # the smallest frame bucket (what a streaming step recomputed before it cached history)
        window = collate([crop(items[0], 0, min(wf, items[0].n_frames))], n_frames=wf, n_phones=32)
        for label, batch in (("10 s of speech (320 frames)", long), ("one streaming window "
                             f"({window['frame_mask'].shape[1]} frames)", window)):
            jax_fn = model.compile(1, batch["frame_mask"].shape[1], batch["phone_ids"].shape[1])
            state = model.state_for(None)
            times = []
            for k in range(33):
                t0 = time.perf_counter()
                jax.block_until_ready(jax_fn(state, batch))
                if k >= 3:
                    times.append(time.perf_counter() - t0)
            p32, p8 = ox.latency_ms(f32, batch), ox.latency_ms(int8, batch)
            row(f"latency p50 batch 1, {label}: jax / onnx f32 / onnx int8",
                f"{1e3 * pct(times, 50):.2f} / {p32[0]:.2f} / {p8[0]:.2f} ms")

    width = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(width)} | value | target")
    for name, value, target in rows:
        print(f"{name.ljust(width)} | {value} | {target}")


if __name__ == "__main__":
    main()
