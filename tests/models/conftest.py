"""Shared, session-scoped fixtures: one tiny model trained briefly on real teacher data (espeak-ng +
coarticulation), one dialect adapter. Compiled functions are shared across tests (few shapes)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

FPS = 30.0
LANGS = ("en-us", "es")


@pytest.fixture(scope="session")
def vocab():
    from visemes.models.vocab import Vocab

    return Vocab.load()


@pytest.fixture(scope="session")
def tiny_cfg(vocab):
    from visemes.models.config import ModelConfig

    return ModelConfig.tiny(n_phones=len(vocab.phones))


@pytest.fixture(scope="session")
def teacher_data(vocab):
    from visemes.models.teacher import teacher_examples

    return teacher_examples(LANGS, 12, vocab, seed=0, fps_choices=(FPS,), rates=(150, 200))


@pytest.fixture(scope="session")
def train_cfg():
    from visemes.models.train import TrainConfig

    return TrainConfig(steps=300, batch_size=8, crop_frames=128, lr=1e-2, warmup=20, eval_every=300,
                       checkpoint_every=1000)


@pytest.fixture(scope="session")
def trained(tiny_cfg, vocab, teacher_data, train_cfg, tmp_path_factory):
    """(VisemeModel, records, run dir) — the tiny base model after a short training run."""
    from visemes.models.train import train_base

    run = tmp_path_factory.mktemp("run")
    model, records = train_base(tiny_cfg, vocab, teacher_data[:-4], teacher_data[-4:], train_cfg, out_dir=run,
                                progress=False)
    return model, records, run


@pytest.fixture(scope="session")
def tiny_model(trained):
    return trained[0]


@pytest.fixture(scope="session")
def dialect_data(vocab):
    from visemes.models.teacher import rounded_dialect, teacher_examples

    # twice the base's utterances (generation is cheap; adapter steps stay 150): a LoRA fitted to 20
    # utterances learns them but not the dialect's rounding on new sentences
    return teacher_examples(LANGS, 24, vocab, seed=0, fps_choices=(FPS,), rates=(150, 200),
                            pack_transform=rounded_dialect)


@pytest.fixture(scope="session")
def dialect_adapter(tiny_model, dialect_data, train_cfg):
    from visemes.models.config import LoRAConfig
    from visemes.models.train import finetune_adapter

    cfg = dataclasses.replace(train_cfg, steps=150, lr=2e-2, warmup=10)
    adapter, records = finetune_adapter(tiny_model, "rounded", dialect_data[:-4], dialect_data[-4:], cfg,
                                        LoRAConfig(rank=4, alpha=8.0), dialect="en-x-round", progress=False)
    return adapter, records


@pytest.fixture(scope="session")
def make_alignment():
    return random_alignment


def random_alignment(vocab, seconds: float = 3.0, seed: int = 0, lang: str = "en-us"):
    from visemes.core.timeline import Alignment, Interval, Tier

    rng = np.random.default_rng(seed)
    phones, t = [], 0.1
    while t < seconds - 0.3:
        d = float(rng.uniform(0.04, 0.16))
        attrs = {"stress": "primary"} if rng.random() < 0.2 else {}
        phones.append(Interval(t, t + d, vocab.phones[int(rng.integers(2, len(vocab.phones)))], attrs))
        t += d + (0.25 if rng.random() < 0.1 else 0.0)
    return Alignment((Tier("phones", tuple(phones)),), seconds, {"lang": lang})
