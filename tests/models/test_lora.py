"""LoRA adapters: only adapters train, save/load with the base fingerprint, mismatch refused, exact
merge/unmerge, per-utterance choice, and a synthetic dialect the adapter learns while the base stays."""

from __future__ import annotations

import numpy as np
import pytest
from flax import nnx

from visemes.core.errors import AdapterMismatchError


def test_inject_targets_attention_and_mlp(tiny_cfg):
    from visemes.models.config import LoRAConfig
    from visemes.models.lora import inject, target_paths
    from visemes.models.network import abstract_model

    m = abstract_model(tiny_cfg)
    paths = target_paths(m, LoRAConfig())
    assert len(paths) == tiny_cfg.n_layers * 6 + 5 and "layers.0.attn.q" in paths and "layers.1.mlp.down" in paths
    assert "to_latent" in paths and "articulation.out" in paths and "viseme_heads.0.out" not in paths
    only_q = inject(m, LoRAConfig(rank=2, targets=(r"layers\.\d+\.attn\.q",)), nnx.Rngs(1))
    assert only_q == ["layers.0.attn.q", "layers.1.attn.q"]
    lora_state = nnx.state(m, nnx.LoRAParam)
    assert len(list(nnx.to_flat_state(lora_state))) == 4


def test_finetune_trains_only_the_adapter(tiny_model, dialect_adapter):
    adapter, _ = dialect_adapter
    base_before = {k: v.copy() for k, v in tiny_model.base_arrays.items()}
    assert adapter.base_fingerprint == tiny_model.fingerprint
    assert all(k.endswith((".lora_a", ".lora_b")) for k in adapter.arrays)
    assert any(np.abs(v).max() > 0 for k, v in adapter.arrays.items() if k.endswith(".lora_b"))  # it learned
    from visemes.models import checkpoint

    assert checkpoint.fingerprint(base_before) == tiny_model.fingerprint


def test_adapter_learns_the_dialect_and_base_is_unchanged(tiny_model, dialect_adapter, dialect_data, teacher_data):
    adapter, _ = dialect_adapter
    tiny_model.add_adapter(adapter)
    held = dialect_data[-4:]
    plain = teacher_data[-4:]

    lips = [1, 2, 3]  # lip_spread, lip_round, lip_protrude: where the dialect differs

    def err(examples, name):
        return float(np.mean([np.abs(tiny_model.predict_inputs(e.inputs, name)["articulation"][:, lips]
                                     - e.articulation[:, lips]).mean() for e in examples]))

    base_on_dialect, adapted_on_dialect = err(held, None), err(held, "rounded")
    assert adapted_on_dialect < 0.85 * base_on_dialect, (base_on_dialect, adapted_on_dialect)
    before = [tiny_model.predict_inputs(e.inputs)["articulation"] for e in plain]
    _ = [tiny_model.predict_inputs(e.inputs, "rounded") for e in plain]
    after = [tiny_model.predict_inputs(e.inputs)["articulation"] for e in plain]
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)  # the base (no adapter) is bit-for-bit unchanged


def test_adapter_file_round_trip_and_mismatch(tiny_model, dialect_adapter, tmp_path):
    from visemes.models.api import VisemeModel
    from visemes.models.lora import Adapter
    from visemes.models import checkpoint
    from visemes.models.network import abstract_model

    adapter, _ = dialect_adapter
    path = adapter.save(tmp_path / "rounded.safetensors")
    assert path.stat().st_size < 1_000_000
    again = Adapter.load(path)
    assert again.lora == adapter.lora and again.dialect == "en-x-round"
    for k in adapter.arrays:
        np.testing.assert_array_equal(again.arrays[k], adapter.arrays[k])
    changed = dict(tiny_model.base_arrays)
    changed["to_latent.bias"] = changed["to_latent.bias"] + 0.01  # a different base: one bias nudged
    other_module = abstract_model(tiny_model.cfg)
    checkpoint.assign(other_module, changed)
    other = VisemeModel(other_module, tiny_model.vocab)
    with pytest.raises(AdapterMismatchError, match="fine-tune"):
        other.load_adapter(path)
    assert tiny_model.load_adapter(path) == "rounded"


def test_merge_unmerge_exact_and_merged_equals_unmerged(tiny_model, dialect_adapter, vocab, make_alignment):
    from visemes.models import checkpoint, lora
    from visemes.models.inputs import collate
    from visemes.models.network import abstract_model

    adapter, _ = dialect_adapter
    tiny_model.add_adapter(adapter)
    base = tiny_model.base_arrays
    merged = lora.merge(base, adapter.arrays, adapter.lora.scale)
    restored = lora.unmerge(merged, adapter.arrays, adapter.lora.scale)
    for k in base:
        np.testing.assert_allclose(restored[k], base[k], atol=1e-6, rtol=0)
    # merge into the model for zero-overhead inference, then unmerge: base restored bit for bit
    tiny_model.merge_adapter("rounded")
    active = tiny_model.active_arrays()
    assert any(not np.array_equal(active[k], base[k]) for k in base)
    tiny_model.unmerge_adapter()
    active = tiny_model.active_arrays()
    for k in base:
        np.testing.assert_array_equal(active[k], base[k])
    # merged weights compute what the unmerged LoRA module computes
    u = tiny_model.encode(make_alignment(vocab, 2.0, seed=9), 30.0)
    module = abstract_model(tiny_model.cfg)
    checkpoint.assign(module, base)
    lora.inject(module, adapter.lora, nnx.Rngs(0))
    checkpoint.assign(module, adapter.arrays, nnx.LoRAParam)
    module.eval()
    unmerged = np.asarray(nnx.jit(lambda m, b: m(b)["articulation"])(module, collate([u])))
    merged_out = tiny_model.run([u], "rounded")["articulation"]
    np.testing.assert_allclose(merged_out, unmerged, atol=1e-5)


def test_several_adapters_one_per_utterance(tiny_model, dialect_adapter, vocab, make_alignment):
    from visemes.models.lora import Adapter

    adapter, _ = dialect_adapter
    tiny_model.add_adapter(adapter)
    # a second adapter: the same layers, half the update
    half = Adapter("half", {k: (v * 0.5 if k.endswith("lora_b") else v) for k, v in adapter.arrays.items()},
                   adapter.lora, adapter.base_fingerprint, "en-x-half")
    tiny_model.add_adapter(half)
    al = make_alignment(vocab, 2.0, seed=10)
    outs = {name: tiny_model.predict(al, adapter=name).articulation.values for name in (None, "rounded", "half")}
    assert not np.allclose(outs["rounded"], outs["half"]) and not np.allclose(outs[None], outs["half"])
    assert tiny_model.predict(al, adapter="half").source.endswith("+half")
    np.testing.assert_array_equal(tiny_model.predict(al).articulation.values, outs[None])
