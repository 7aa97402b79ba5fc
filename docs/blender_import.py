"""Key a Blender mesh's shape keys from a `visemes` result (per-frame CSV or JSON).

Usage, from a shell (everything after ``--`` goes to this script)::

    blender face.blend --python docs/blender_import.py -- visemes-demo/en-US/visemes.csv \
        --object Face --mode arkit [--start-frame 1] [--set-scene-fps] [--save]

(Blender runs the script as ``__main__``; it reads its own arguments after ``--``).

``--mode arkit`` keys shape keys named after ARKit blendshapes (``jawOpen``, ``mouthFunnel`` ...; also
matches ``JawOpen``/``jaw_open`` spellings); ``--mode oculus`` keys Oculus viseme shape keys (``viseme_aa``,
``viseme_PP`` ... as Ready Player Me / VRoid / CC avatars name them, or bare ``aa``, ``PP``);
``--mode auto`` picks whichever matches more of the object's shape keys.

The file is read with the standard library only, and all timing work (resampling our frames onto the
scene's frame rate, dropping redundant keys) is plain Python, so it is tested outside Blender; only
:func:`apply_plan` and :func:`main` touch ``bpy``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import bpy  # noqa: F401  (Blender's API; the tests import this script with a stand-in module)

GROUP_FOR_MODE = {"arkit": "blendshapes", "oculus": "visemes"}
#: Oculus viseme names as avatar kits spell them (``viseme_I`` for our ``ih`` and so on).
OCULUS_ALIASES = {"ih": ("ih", "i"), "oh": ("oh", "o"), "ou": ("ou", "u"), "e": ("e",)}


@dataclass(frozen=True)
class Curves:
    """Per-frame values of one curve group: ``values[frame][channel]`` at ``fps``, starting at ``start`` s."""

    fps: float
    channels: tuple
    values: tuple
    start: float = 0.0


@dataclass(frozen=True)
class Plan:
    """What to key: shape key name -> [(scene frame, value)], and the scene frame rate used."""

    keys: dict
    scene_fps: float
    unmatched: tuple  # curve channels with no shape key on the object


def read_curves(path, group: str) -> Curves:
    """Curves of ``group`` ("blendshapes", "visemes" or "articulation") from our JSON or CSV export.

    Accepts: the JSON document (``visemes.result``), the all-groups CSV (``blendshapes.jawOpen`` columns),
    and single-group CSVs with bare channel names (``.oculus.csv``)."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("format") != "visemes.result" or not doc.get("animation"):
            raise ValueError(f"{path} is not a visemes result with an animation (format {doc.get('format')!r}).")
        data = doc["animation"][group]
        return Curves(float(data["fps"]), tuple(data["channels"]), tuple(tuple(map(float, r)) for r in data["values"]),
                      float(data.get("start", 0.0)))
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if len(rows) < 2 or "time" not in rows[0]:
        raise ValueError(f"{path} is not a per-frame CSV with a 'time' column and at least one frame.")
    header = rows[0]
    t_col = header.index("time")
    prefixed = [i for i, h in enumerate(header) if h.startswith(group + ".")]
    if prefixed:
        cols, names = prefixed, [header[i][len(group) + 1:] for i in prefixed]
    elif any("." in h for h in header):
        raise ValueError(f"{path} has no {group!r} columns; export with --format csv (all groups).")
    else:
        cols = [i for i, h in enumerate(header) if h not in ("frame", "time")]
        names = [header[i] for i in cols]
    times = [float(r[t_col]) for r in rows[1:]]
    fps = 1.0 / ((times[-1] - times[0]) / (len(times) - 1)) if len(times) > 1 else 30.0
    fps = round(fps, 3)
    values = tuple(tuple(float(r[i]) for i in cols) for r in rows[1:])
    return Curves(fps, tuple(names), values, times[0])


def _norm(name: str) -> str:
    return name.lower().replace("_", "").replace(".", "").replace(" ", "")


def match_shape_keys(channels, shape_keys, mode: str) -> dict:
    """curve channel -> shape key name, matched case- and underscore-insensitively."""
    by_norm = {}
    for key in shape_keys:
        by_norm.setdefault(_norm(key), key)
    out = {}
    for channel in channels:
        if mode == "oculus":
            stem = channel.lower()
            candidates = []
            for alias in OCULUS_ALIASES.get(stem, (stem,)):
                candidates += [_norm("viseme_" + alias), _norm(alias)]
        else:
            candidates = [_norm(channel)]
        hit = next((by_norm[c] for c in candidates if c in by_norm), None)
        if hit is not None:
            out[channel] = hit
    return out


def resample(curves: Curves, scene_fps: float, start_frame: int) -> tuple:
    """``(frames, rows)``: the curves linearly interpolated at every scene frame they cover."""
    n = len(curves.values)
    duration = (n - 1) / curves.fps
    count = int(math.floor(duration * scene_fps + 1e-9)) + 1
    frames, rows = [], []
    for k in range(count):
        pos = k / scene_fps * curves.fps
        i = min(int(math.floor(pos)), n - 1)
        j = min(i + 1, n - 1)
        w = pos - i
        row = tuple((1 - w) * a + w * b for a, b in zip(curves.values[i], curves.values[j]))
        frames.append(start_frame + int(round(curves.start * scene_fps)) + k)
        rows.append(row)
    return frames, rows


def thin(keys: list, tolerance: float = 1e-4) -> list:
    """Drop keys that lie on the straight line between their neighbours (Blender interpolates them back)."""
    if len(keys) <= 2:
        return list(keys)
    out = [keys[0]]
    for prev, cur, nxt in zip(keys, keys[1:], keys[2:]):
        (f0, v0), (f1, v1), (f2, v2) = out[-1], cur, nxt
        line = v0 + (v2 - v0) * (f1 - f0) / (f2 - f0)
        if abs(v1 - line) > tolerance:
            out.append(cur)
    out.append(keys[-1])
    return out


def plan_keys(curves: Curves, shape_keys, mode: str, scene_fps: float, start_frame: int = 1,
              tolerance: float = 1e-4) -> Plan:
    mapping = match_shape_keys(curves.channels, shape_keys, mode)
    frames, rows = resample(curves, scene_fps, start_frame)
    keys = {}
    for c, channel in enumerate(curves.channels):
        if channel in mapping:
            series = [(f, max(0.0, min(1.0, row[c]))) for f, row in zip(frames, rows)]
            keys[mapping[channel]] = thin(series, tolerance)
    unmatched = tuple(ch for ch in curves.channels if ch not in mapping)
    return Plan(keys, scene_fps, unmatched)


def choose_mode(path, shape_keys) -> str:
    """"arkit" or "oculus", whichever names more of ``shape_keys``."""
    scores = {}
    for mode, group in GROUP_FOR_MODE.items():
        try:
            scores[mode] = len(match_shape_keys(read_curves(path, group).channels, shape_keys, mode))
        except (ValueError, KeyError):
            scores[mode] = -1
    return max(scores, key=lambda m: scores[m])


# --- Blender side -------------------------------------------------------------------------------


def apply_plan(obj, plan: Plan) -> int:
    """Insert the planned keyframes on ``obj``'s shape keys; returns the number of keys inserted."""
    blocks = obj.data.shape_keys.key_blocks
    count = 0
    for name, series in plan.keys.items():
        block = blocks[name]
        for frame, value in series:
            block.value = value
            block.keyframe_insert(data_path="value", frame=frame)
            count += 1
    return count


def parse_args(argv):
    p = argparse.ArgumentParser(prog="blender_import.py", description=__doc__.split("\n")[0])
    p.add_argument("input", help="visemes.csv (all groups), .oculus.csv or .json from `visemes animate`/`visemes demo`")
    p.add_argument("--object", default=None, help="mesh object with the shape keys (default: the active object)")
    p.add_argument("--mode", choices=("auto", "arkit", "oculus"), default="auto")
    p.add_argument("--start-frame", type=int, default=1)
    p.add_argument("--set-scene-fps", action="store_true", help="set the scene's frame rate to the file's")
    p.add_argument("--save", action="store_true", help="save the .blend after keying")
    return p.parse_args(argv)


def main(argv=None) -> int:
    argv = sys.argv[sys.argv.index("--") + 1:] if argv is None and "--" in sys.argv else (argv or [])
    args = parse_args(argv)
    obj = bpy.data.objects[args.object] if args.object else bpy.context.active_object
    if obj is None or getattr(obj.data, "shape_keys", None) is None:
        raise SystemExit("Select (or name with --object) a mesh that has shape keys.")
    names = [kb.name for kb in obj.data.shape_keys.key_blocks]
    mode = choose_mode(args.input, names) if args.mode == "auto" else args.mode
    curves = read_curves(args.input, GROUP_FOR_MODE[mode])
    scene = bpy.context.scene
    if args.set_scene_fps:
        scene.render.fps, scene.render.fps_base = int(round(curves.fps)), int(round(curves.fps)) / curves.fps
    scene_fps = scene.render.fps / scene.render.fps_base
    plan = plan_keys(curves, names, mode, scene_fps, args.start_frame)
    if not plan.keys:
        raise SystemExit(f"No shape key of {obj.name!r} matches the {mode} channels {list(curves.channels)[:6]}...")
    n = apply_plan(obj, plan)
    last = max(series[-1][0] for series in plan.keys.values())
    scene.frame_end = max(scene.frame_end, last)
    print(f"visemes: {n} keys on {len(plan.keys)} shape keys of {obj.name!r} ({mode}, {scene_fps:g} fps); "
          f"unmatched channels: {', '.join(plan.unmatched) or 'none'}")
    if args.save:
        bpy.ops.wm.save_mainfile()
    return 0


if __name__ == "__main__":
    main()
