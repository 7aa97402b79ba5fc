"""models: the JAX/Flax NNX viseme transformer — config, network, LoRA adapters, training, inference.

Heavy imports (JAX) happen on first use of a name below, so ``import models`` is cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "load": "models.api:load",
    "VisemeModel": "models.api:VisemeModel",
    "ModelConfig": "models.config:ModelConfig",
    "LoRAConfig": "models.config:LoRAConfig",
    "Adapter": "models.lora:Adapter",
    "StreamingPredictor": "models.streaming:StreamingPredictor",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'models' has no attribute {name!r}")
    module, attr = target.split(":")
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value
