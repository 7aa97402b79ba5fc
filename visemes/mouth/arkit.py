"""Apple ARKit blendshapes, and the mapping from the articulatory mouth space to them.

``ARKIT_52`` lists all 52 ``ARFaceAnchor.BlendShapeLocation`` names in Apple's documentation order
(eyes, mouth and jaw, brows, cheeks, nose, tongue). ``ARKIT_MOUTH`` is the subset a speaking mouth
uses: jaw, mouth and tongue shapes (in the same order). :func:`articulation_to_arkit` maps
``values[T, 9]`` over :data:`~visemes.core.articulation.ARTICULATION_PARAMS` to ``[T, len(ARKIT_MOUTH)]``.

The mapping (A = articulation value, every output clipped to [0, 1]; Left/Right pairs are equal)::

    jawOpen            = jaw_open
    mouthClose         = jaw_open * min(1, lip_close / CONTACT)
                                                   # ARKit's mouthClose is "lips together while the
                                                   # jaw is open": it must cancel jawOpen's lip gap,
                                                   # so contact (lip_close >= CONTACT = 0.95, the
                                                   # coarticulation model's closure guarantee) gives
                                                   # mouthClose == jawOpen exactly
    mouthPress         = 0.35 * lip_close          # slight press on closure (p b m)
    mouthShrugLower    = 0.25 * lip_close          # lower lip pushed up against the upper one
    mouthFunnel        = 0.8 * lip_round * (1 - lip_close)   # an open rounded aperture; closed lips
                                                              # cannot funnel
    mouthPucker        = 0.9 * lip_protrude
    mouthStretch       = 0.6 * lip_spread
    mouthSmile         = 0.2 * lip_spread          # a little corner lift keeps spread lips natural
    mouthRollLower     = 0.75 * lower_lip_tuck     # lower lip rolled in under the upper teeth (f v)
    mouthUpperUp       = upper_lip_raise + 0.2 * lower_lip_tuck
    mouthLowerDown     = 0.4 * upper_lip_raise     # flared lips (ʃ) part at both lips
    tongueOut          = tongue_out

Every output is non-decreasing in each parameter that drives it, except that closing the lips
removes the funnel. ``tongue_tip`` has no ARKit counterpart (ARKit tracks only ``tongueOut``), and
the asymmetric and expressive shapes (jawLeft/Right, jawForward, mouthLeft/Right, mouthFrown,
mouthDimple, mouthRollUpper, mouthShrugUpper, cheekPuff) stay 0: speech articulation does not drive them.
"""

from __future__ import annotations

import numpy as np

from visemes.core.articulation import ARTICULATION_PARAMS
from visemes.core.curves import FrameCurves
from visemes.core.errors import InputError
from visemes.mouth.rowwise import rowwise_matmul

#: All 52 ARKit blendshapes, Apple's documentation order.
ARKIT_52: tuple[str, ...] = (
    "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft", "eyeSquintLeft",
    "eyeWideLeft", "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight", "eyeLookUpRight",
    "eyeSquintRight", "eyeWideRight",
    "jawForward", "jawLeft", "jawRight", "jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthLeft",
    "mouthRight", "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight", "mouthDimpleLeft",
    "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight", "mouthRollLower", "mouthRollUpper",
    "mouthShrugLower", "mouthShrugUpper", "mouthPressLeft", "mouthPressRight", "mouthLowerDownLeft",
    "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight",
    "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "noseSneerLeft", "noseSneerRight",
    "tongueOut",
)
#: The jaw, mouth and tongue blendshapes (Apple's order): the channels of MouthAnimation.blendshapes.
ARKIT_MOUTH: tuple[str, ...] = tuple(n for n in ARKIT_52 if n.startswith(("jaw", "mouth", "tongue")))

#: lip_close at which the lips are in contact (the closure the coarticulation model guarantees)
CONTACT = 0.95

_P = {name: i for i, name in enumerate(ARTICULATION_PARAMS)}
_K = {name: i for i, name in enumerate(ARKIT_MOUTH)}

# The linear part: blendshape <- sum(gain * parameter); both sides of symmetric pairs get the same.
_LINEAR: tuple[tuple[str, str, float], ...] = (
    ("jawOpen", "jaw_open", 1.0),
    ("mouthPressLeft", "lip_close", 0.35), ("mouthPressRight", "lip_close", 0.35),
    ("mouthShrugLower", "lip_close", 0.25),
    ("mouthPucker", "lip_protrude", 0.9),
    ("mouthStretchLeft", "lip_spread", 0.6), ("mouthStretchRight", "lip_spread", 0.6),
    ("mouthSmileLeft", "lip_spread", 0.2), ("mouthSmileRight", "lip_spread", 0.2),
    ("mouthRollLower", "lower_lip_tuck", 0.75),
    ("mouthUpperUpLeft", "upper_lip_raise", 1.0), ("mouthUpperUpRight", "upper_lip_raise", 1.0),
    ("mouthUpperUpLeft", "lower_lip_tuck", 0.2), ("mouthUpperUpRight", "lower_lip_tuck", 0.2),
    ("mouthLowerDownLeft", "upper_lip_raise", 0.4), ("mouthLowerDownRight", "upper_lip_raise", 0.4),
    ("tongueOut", "tongue_out", 1.0),
)


def _linear_matrix() -> np.ndarray:
    w = np.zeros((len(ARTICULATION_PARAMS), len(ARKIT_MOUTH)), dtype=np.float32)
    for shape, param, gain in _LINEAR:
        w[_P[param], _K[shape]] += gain
    return w


def articulation_to_arkit(values: np.ndarray) -> np.ndarray:
    """ARKit mouth blendshape weights ``[T, len(ARKIT_MOUTH)]`` for articulation ``values[T, 9]``."""
    a = np.asarray(values, dtype=np.float32)
    if a.ndim != 2 or a.shape[1] != len(ARTICULATION_PARAMS):
        raise InputError(
            f"Articulation values must have shape (frames, {len(ARTICULATION_PARAMS)}) in the order "
            f"{ARTICULATION_PARAMS}, got {a.shape}."
        )
    if not np.all(np.isfinite(a)):
        raise InputError("Articulation values contain NaN or infinity; replace them (np.nan_to_num) or fix "
                         "what produced them.")
    a = np.clip(a, 0.0, 1.0)
    out = rowwise_matmul(a, _linear_matrix())
    jaw, close, round_ = a[:, _P["jaw_open"]], a[:, _P["lip_close"]], a[:, _P["lip_round"]]
    out[:, _K["mouthClose"]] = jaw * np.minimum(1.0, close / CONTACT)
    out[:, _K["mouthFunnel"]] = 0.8 * round_ * (1.0 - close)
    return np.clip(out, 0.0, 1.0)


def arkit_curves(articulation: FrameCurves) -> FrameCurves:
    """:func:`articulation_to_arkit` on a FrameCurves over ARTICULATION_PARAMS (any channel order)."""
    values = articulation.select(ARTICULATION_PARAMS).values
    return FrameCurves(articulation.fps, ARKIT_MOUTH, articulation_to_arkit(values), articulation.start, articulation.meta)
