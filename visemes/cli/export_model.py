"""``visemes export-model``: the neural model as a portable file (ONNX, optionally int8) or as
StableHLO bytes (``jax.export``). A thin layer over :mod:`visemes.models.onnx_export` and
:mod:`visemes.models.export`."""

from __future__ import annotations

from pathlib import Path

import click

from visemes import models
from visemes.core.errors import InputError


@click.command("export-model")
@click.option("--format", "fmt", type=click.Choice(["onnx", "stablehlo"]), default="onnx", show_default=True)
@click.option("-o", "--out", "out_path", required=True, type=click.Path(dir_okay=False),
              help="Output file (.onnx, or .stablehlo); a .json sidecar is written beside it.")
@click.option("--model", "model_path", default=None, type=click.Path(dir_okay=False),
              help="Model weights (.safetensors); default: the shipped model.")
@click.option("--int8", is_flag=True, help="ONNX only: int8 weights; written only if it passes the accuracy gate.")
@click.option("--opset", default=15, show_default=True,
              help="ONNX opset (15: what Unity Sentis loads; ONNX Runtime loads 15 and newer).")
@click.option("--frames", default=320, show_default=True, help="StableHLO only: frames of the compiled bucket.")
@click.option("--phones", default=128, show_default=True, help="StableHLO only: phones of the compiled bucket.")
@click.option("--overwrite", is_flag=True)
def export_model(fmt, out_path, model_path, int8, opset, frames, phones, overwrite):
    """Export the viseme model for game engines, browsers and mobile runtimes (ONNX) or JAX (StableHLO)."""
    model = models.load(model_path)
    out = Path(out_path)
    if fmt == "stablehlo":
        if int8:
            raise InputError("--int8 applies to --format onnx only.")
        from visemes.models.export import save_export  # heavy: jax.export

        path = save_export(model, out, n_frames=frames, n_phones=phones, overwrite=overwrite)
        click.echo(f"stablehlo: {path} (bucket 1 x {frames} frames x {phones} phones, fingerprint {model.fingerprint})")
        return
    from visemes.models.onnx_export import save_onnx  # heavy: jax2onnx, onnxruntime (optional extra)

    result = save_onnx(model, out, int8=int8, overwrite=overwrite, opset=opset)
    click.echo(f"onnx ({'int8' if int8 else 'float32'}): {result.path} ({result.size_bytes / 1e6:.2f} MB), "
               f"sidecar {result.sidecar_path.name}; float32 vs JAX max error {result.f32_max_error:.1e}")
    if result.gate is not None:
        click.echo(f"int8 gate passed: {result.gate.describe()}")
