"""``visemes live --events FILE``: replay a TTS timing-event file at real-time pace and print one JSON
line per video frame as it becomes final (:mod:`visemes.pipeline.stream`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from visemes import models
from visemes.core.errors import InputError
from visemes.core.vocabulary import VISEME_SETS
from visemes.pipeline.tts_events import FORMATS, read_onsets


@click.command()
@click.option("--events", "events_path", required=True, type=click.Path(dir_okay=False),
              help="TTS timing events: Polly speech marks, Azure viseme events, espeak-ng or Piper JSON.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None, help="Event format (default: guessed).")
@click.option("--lang", default=None, help="Language of the speech (sharpens the model; needed for non-Oculus sets).")
@click.option("--fps", default=30.0, show_default=True)
@click.option("--lookahead", "lookahead_s", default=None, type=float,
              help="Seconds the model looks ahead (default: the model's own, 0.08, which matches offline output).")
@click.option("--viseme-set", type=click.Choice(VISEME_SETS), default="oculus", show_default=True)
@click.option("--model", "model_path", default=None, type=click.Path(dir_okay=False), help="Model weights (default: shipped).")
@click.option("--rules", is_flag=True, help="The coarticulation rules instead of the neural model (needs --lang; "
              "approximate under 0.7 s lookahead).")
@click.option("--speed", default=1.0, show_default=True, help="Replay speed; 0 = as fast as possible.")
@click.option("-o", "--out", "out_path", default=None, type=click.Path(dir_okay=False), help="JSON lines file (default: stdout).")
def live(events_path, fmt, lang, fps, lookahead_s, viseme_set, model_path, rules, speed, out_path):
    """Stream mouth frames (visemes, ARKit blendshapes, articulation) from a TTS event file in real time."""
    from visemes.pipeline.stream import EventStream, replay  # heavy: imports JAX (the model)

    path = Path(events_path)
    if not path.is_file():
        raise InputError(f"Event file {path} does not exist.")
    onsets = read_onsets(path.read_text("utf-8"), fmt)
    if rules and model_path:
        raise InputError("--rules and --model exclude each other: the rules use no model.")
    s = EventStream(None if rules else models.load(model_path), fps, lookahead_s=lookahead_s, lang=lang,
                    viseme_set=viseme_set)
    out = open(out_path, "w", encoding="utf-8") if out_path else sys.stdout  # noqa: SIM115 - stdout or a file
    try:
        for frame in replay(onsets, s, speed=speed):
            out.write(frame.to_json() + "\n")
            out.flush()
    finally:
        if out_path:
            out.close()
