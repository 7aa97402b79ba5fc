"""The built-in prior: class-level Gaussians the MAP back-off ends in (shipped as JSON).

Computed from license-safe synthetic espeak-ng speech (see ``make_prior``); without the file the
prior is the standard normal (features are normalised per utterance), i.e. a flat start.
"""

from __future__ import annotations

import json
from importlib import resources

import numpy as np

from visemes.alignment.builtin.hmm import Prior
from visemes.core.errors import ModelError

FORMAT_VERSION = 1
PRIOR_FILE = "data/prior.json"


def load_prior() -> Prior:
    try:
        text = resources.files("visemes.alignment.builtin").joinpath(PRIOR_FILE).read_text("utf-8")
    except FileNotFoundError:
        return Prior({}, {})
    data = json.loads(text)
    if data.get("format_version") != FORMAT_VERSION:
        raise ModelError(f"alignment/builtin/{PRIOR_FILE} has an unsupported format_version; reinstall visemes.")
    means = {k: np.asarray(v, np.float64) for k, v in data["means"].items()}
    variances = {k: np.asarray(v, np.float64) for k, v in data["variances"].items()}
    return Prior(means, variances)


def prior_to_json(prior: Prior, source: str) -> str:
    return json.dumps({
        "format": "visemes.aligner_prior", "format_version": FORMAT_VERSION, "source": source,
        "means": {k: np.round(np.asarray(v), 4).tolist() for k, v in sorted(prior.means.items())},
        "variances": {k: np.round(np.asarray(v), 4).tolist() for k, v in sorted(prior.variances.items())},
    })
