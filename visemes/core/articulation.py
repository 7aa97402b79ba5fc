"""The named articulatory parameter space of the mouth.

Every value is in [0, 1]. Packs give per-phoneme targets in this space, the coarticulation model
interpolates it per frame, the neural model decodes its latent into it, and the ARKit/viseme
converters read it. Order matters: it is the channel order of :class:`visemes.core.curves.FrameCurves`.
"""

from __future__ import annotations

ARTICULATION_PARAMS: tuple[str, ...] = (
    "jaw_open",         # 0 closed teeth .. 1 jaw fully lowered (open vowels)
    "lip_spread",       # 0 neutral .. 1 corners pulled back (i, e)
    "lip_round",        # 0 neutral .. 1 corners drawn in, rounded aperture (u, o, w)
    "lip_protrude",     # 0 neutral .. 1 lips pushed forward (u, ʃ, w)
    "lip_close",        # 0 apart .. 1 lips in full contact (p b m)
    "lower_lip_tuck",   # 0 neutral .. 1 lower lip under upper teeth (f v)
    "upper_lip_raise",  # 0 neutral .. 1 upper lip raised, teeth shown (ʃ, r, some spread vowels)
    "tongue_tip",       # 0 hidden .. 1 tongue tip visible at teeth/alveolar ridge (t d n l θ)
    "tongue_out",       # 0 inside .. 1 tongue between or past the teeth (θ ð, in some speakers)
)

#: The rest pose (silence).
REST_TARGET: dict[str, float] = {name: 0.0 for name in ARTICULATION_PARAMS}
REST_TARGET["jaw_open"] = 0.05
