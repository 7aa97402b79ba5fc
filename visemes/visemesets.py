"""Viseme inventories. The Oculus/OpenXR 15 set is the canonical class set of the language packs."""

from __future__ import annotations

#: Oculus / OpenXR lip-sync visemes, in their standard index order.
OCULUS_15: tuple[str, ...] = (
    "sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "ih", "oh", "ou",
)
