"""visemes.models: the JAX/Flax NNX viseme transformer — config, network, LoRA adapters, training, inference.

Heavy imports (JAX) happen on first use of a name below, so ``import visemes.models`` is cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "load": "visemes.models.api:load",
    "check_model": "visemes.models.api:check_model",
    "VisemeModel": "visemes.models.api:VisemeModel",
    "ModelConfig": "visemes.models.config:ModelConfig",
    "LoRAConfig": "visemes.models.config:LoRAConfig",
    "Adapter": "visemes.models.lora:Adapter",
    "StreamingPredictor": "visemes.models.streaming:StreamingPredictor",
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
