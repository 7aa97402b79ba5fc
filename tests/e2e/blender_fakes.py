"""A stand-in ``bpy`` for testing docs/blender_import.py outside Blender."""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "blender_import.py"


class FakeBlock:
    def __init__(self, name):
        self.name, self.value, self.keys = name, 0.0, []

    def keyframe_insert(self, data_path, frame):
        assert data_path == "value"
        self.keys.append((frame, self.value))


class FakeBlocks(dict):
    def __iter__(self):
        return iter(self.values())


def fake_object(names):
    blocks = FakeBlocks({n: FakeBlock(n) for n in names})
    shape_keys = types.SimpleNamespace(key_blocks=blocks)
    return types.SimpleNamespace(name="Face", data=types.SimpleNamespace(shape_keys=shape_keys))


def load_script(monkeypatch):
    """The script imported with a stand-in ``bpy`` (scene at 24 fps, one mesh named Face)."""
    obj = fake_object(["Basis", "JawOpen", "mouth_funnel", "viseme_aa", "viseme_PP", "viseme_I", "viseme_U"])
    render = types.SimpleNamespace(fps=24, fps_base=1.0)
    scene = types.SimpleNamespace(render=render, frame_end=10)
    saved = []
    bpy = types.ModuleType("bpy")
    bpy.data = types.SimpleNamespace(objects={"Face": obj})
    bpy.context = types.SimpleNamespace(active_object=obj, scene=scene)
    bpy.ops = types.SimpleNamespace(wm=types.SimpleNamespace(save_mainfile=lambda: saved.append(True)))
    monkeypatch.setitem(sys.modules, "bpy", bpy)
    spec = importlib.util.spec_from_file_location("blender_import", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "blender_import", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module, obj, scene, saved
