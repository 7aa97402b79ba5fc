"""``visemes live``: mouth frames as JSON lines, in real time, from a TTS timing-event file replayed
(``--events``), a recording replayed (``--wav``) or a microphone (``--mic``, optional ``[live]`` extra)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from visemes import models
from visemes.core.audio import load_audio
from visemes.core.errors import InputError
from visemes.core.vocabulary import VISEME_SETS
from visemes.pipeline import microphone  # light: sounddevice itself is imported only when a device is used
from visemes.pipeline.tts_events import FORMATS, read_onsets


@click.command()
@click.option("--events", "events_path", default=None, type=click.Path(dir_okay=False),
              help="TTS timing events: Polly speech marks, Azure viseme events, espeak-ng or Piper JSON.")
@click.option("--wav", "wav_path", default=None, type=click.Path(dir_okay=False),
              help="A recording, replayed in real time through the audio-only path (as a microphone would deliver it).")
@click.option("--mic", is_flag=True, help="Record from a microphone (pip install 'visemes[live]'); Ctrl-C ends.")
@click.option("--device", default=None, help="Input device for --mic: its index or part of its name (see --list-devices).")
@click.option("--list-devices", is_flag=True, help="List the audio input devices and exit.")
@click.option("--seconds", default=None, type=float, help="Stop --mic after this many seconds.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None, help="Event format (default: guessed).")
@click.option("--lang", default=None, help="Language of the speech (sharpens the model; needed for non-Oculus sets).")
@click.option("--fps", default=30.0, show_default=True)
@click.option("--lookahead", "lookahead_s", default=None, type=float,
              help="Seconds the model looks ahead (default: the model's own, 0.08, which matches offline output).")
@click.option("--viseme-set", type=click.Choice(VISEME_SETS), default="oculus", show_default=True)
@click.option("--model", "model_path", default=None, type=click.Path(dir_okay=False), help="Model weights (default: shipped).")
@click.option("--rules", is_flag=True, help="The coarticulation rules instead of the neural model (needs --lang for "
              "events; approximate under 0.7 s lookahead).")
@click.option("--speed", default=1.0, show_default=True, help="Replay speed of --events/--wav; 0 = as fast as possible.")
@click.option("-o", "--out", "out_path", default=None, type=click.Path(dir_okay=False), help="JSON lines file (default: stdout).")
def live(events_path, wav_path, mic, device, list_devices, seconds, fmt, lang, fps, lookahead_s, viseme_set,
         model_path, rules, speed, out_path):
    """Stream mouth frames (visemes, ARKit blendshapes, articulation) in real time, one JSON line per frame."""
    if list_devices:
        for d in microphone.input_devices():
            click.echo(d.describe())
        return
    sources = [name for name, given in (("--events", events_path), ("--wav", wav_path), ("--mic", mic)) if given]
    if len(sources) != 1:
        raise InputError("Give one source: --events FILE (TTS timing events), --wav FILE or --mic.")
    if rules and model_path:
        raise InputError("--rules and --model exclude each other: the rules use no model.")
    if device is not None and not mic:
        raise InputError("--device selects the microphone: use it with --mic.")
    # heavy: these import JAX (the model and the recogniser)
    from visemes.pipeline.live_audio import AudioStream, live_frames, wav_blocks
    from visemes.pipeline.stream import EventStream, replay

    model = None if rules else models.load(model_path)
    if events_path:
        path = Path(events_path)
        if not path.is_file():
            raise InputError(f"Event file {path} does not exist.")
        onsets = read_onsets(path.read_text("utf-8"), fmt)
        s = EventStream(model, fps, lookahead_s=lookahead_s, lang=lang, viseme_set=viseme_set)
        frames = replay(onsets, s, speed=speed)
    else:
        if wav_path:
            samples, rate = load_audio(wav_path)
            source = wav_blocks(samples, rate, speed=speed)
        else:
            mic_source = microphone.Microphone(device, seconds=seconds)
            rate, source = mic_source.sample_rate, iter(mic_source)
            click.echo(f"recording from {mic_source.name!r} at {rate} Hz (Ctrl-C ends)", err=True)
        frames = live_frames(source, AudioStream(model, rate, fps, lang=lang, viseme_set=viseme_set,
                                                 lookahead_s=lookahead_s))
    out = open(out_path, "w", encoding="utf-8") if out_path else sys.stdout  # noqa: SIM115 - stdout or a file
    try:
        for frame in frames:
            out.write(frame.to_json() + "\n")
            out.flush()
    except KeyboardInterrupt:  # Ctrl-C ends a microphone take
        pass
    finally:
        if out_path:
            out.close()
