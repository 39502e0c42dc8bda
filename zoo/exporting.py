"""Export a checkpoint for serving outside Keras (``zoo export-model NAME --format F``).

Formats (all need the TensorFlow Keras backend):

* ``savedmodel`` — a TensorFlow SavedModel folder, signature ``serving_default``;
* ``tflite`` — a TensorFlow Lite (LiteRT) flat buffer;
* ``onnx`` — an ONNX graph, converted with ``tf2onnx`` (``pip install tf2onnx onnxruntime``,
  the ``export`` extra).

Every export outputs **probabilities** (the sigmoid of the model's logits), shape
``(n, num_labels)``; the input is ``float32 (n, num_features)`` for feature models and a
``string (n,)`` tensor for text models. Next to the artifact, ``<out>.labels.json`` (inside
the folder for SavedModel: ``zoo_labels.json``) records the label names in output order and
the calibrated decision rule (``zoo.thresholds`` dict), so a server can apply the same rule.

    >>> from zoo.exporting import export_model
    >>> export_model("yeast/mlp", "yeast.onnx", "onnx")       # doctest: +SKIP
    PosixPath('yeast.onnx')
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from zoo.errors import ZooError

FORMATS = ("savedmodel", "tflite", "onnx")


class ExportError(ZooError):
    """An export format is unavailable for this model or environment."""


def _serving_function(model):
    import keras
    import tensorflow as tf
    if keras.backend.backend() != "tensorflow":
        raise ExportError(f"export-model needs the TensorFlow Keras backend; KERAS_BACKEND is "
                          f"{keras.backend.backend()!r} (run with KERAS_BACKEND=tensorflow)")
    km = model.keras_model
    if model.kind == "features":
        width = model.card.get("input", {}).get("num_features") or km.inputs[0].shape[-1]
        spec = tf.TensorSpec([None, int(width)], tf.float32, name="features")
    elif model.kind == "text":
        spec = tf.TensorSpec([None], tf.string, name="text")
    else:
        raise ExportError(f"export-model supports feature and text models, not {model.kind!r}"
                          " models yet")

    @tf.function(input_signature=[spec])
    def serve(x):
        return {"probabilities": tf.sigmoid(tf.cast(km(x, training=False), tf.float32))}
    return serve, spec


def _save(model, serve, path: Path) -> Path:
    """A SavedModel with the ``serving_default`` signature, written by Keras's
    ``ExportArchive`` (which tracks the model's variables and captured constants, such as a
    ``Normalization`` layer's mean; a plain ``tf.Module`` lets TFLite read those as garbage)."""
    import keras
    archive = keras.export.ExportArchive()
    archive.track(model.keras_model)
    archive.add_endpoint("serve", serve)
    archive.write_out(str(path), verbose=False)
    return path


def _frozen(serve):
    """The serving function with variables and captured tensors folded into constants (the
    converters otherwise read captured tensors as extra inputs, or as garbage)."""
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2)
    return convert_variables_to_constants_v2(serve.get_concrete_function())


def _to_onnx(tf2onnx, serve, path: Path) -> None:
    """Freeze the serving function (variables and captured tensors such as a standardization
    layer's mean become constants, not graph inputs) and convert the graph."""
    frozen = _frozen(serve)
    inputs = [t.name for t in frozen.inputs]
    outputs = [t.name for t in frozen.outputs]
    tf2onnx.convert.from_graph_def(frozen.graph.as_graph_def(), input_names=inputs,
                                   output_names=outputs, opset=17, output_path=str(path))


def _sidecar(model) -> dict:
    return {"name": model.name, "label_names": list(model.label_names),
            "thresholds": model.thresholds.to_dict(), "kind": model.kind,
            "output": "probabilities (sigmoid of the logits), one column per label"}


def _write_sidecar(model, path: Path) -> None:
    from zoo._io import atomic_write_text
    atomic_write_text(path, json.dumps(_sidecar(model), indent=1) + "\n")


def export_model(ref, out, fmt: str = "savedmodel", overwrite: bool = False) -> Path:
    """Export ``ref`` (a pretrained name or checkpoint folder) to ``out`` in format ``fmt``.

    The artifact is built in a temporary location next to ``out`` and renamed into place.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    out = Path(out)
    if out.exists() and not overwrite:
        raise ExportError(f"{out} exists; choose another --out or pass --force")
    import zoo
    model = zoo.load(ref)
    serve, spec = _serving_function(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmpdir = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        if fmt == "savedmodel":
            staged = _save(model, serve, tmpdir / "savedmodel")
            _write_sidecar(model, staged / "zoo_labels.json")
            if out.exists():
                shutil.rmtree(out) if out.is_dir() else out.unlink()
            os.replace(staged, out)
            return out
        staged = tmpdir / out.name
        if fmt == "tflite":
            import tensorflow as tf
            # Through a SavedModel: keeps the "serving_default" signature and the captured
            # constants (from_concrete_functions drops the signature; captures read garbage).
            conv = tf.lite.TFLiteConverter.from_saved_model(
                str(_save(model, serve, tmpdir / "savedmodel")))
            if model.kind == "text":  # string ops are TF ops, not TFLite builtins
                conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS,
                                                  tf.lite.OpsSet.SELECT_TF_OPS]
            staged.write_bytes(conv.convert())
        else:
            try:
                import tf2onnx
            except ImportError:
                raise ExportError("--format onnx needs tf2onnx: pip install tf2onnx onnxruntime "
                                  "(or pip install -e '.[export]' in the clone)") from None
            if model.kind == "text":
                raise ExportError("ONNX has no string ops for the text models' vectorizer; "
                                  "export text models as savedmodel or tflite")
            try:
                _to_onnx(tf2onnx, serve, staged)
            except Exception as e:  # noqa: BLE001  (the converter raises many types)
                raise ExportError(f"tf2onnx {tf2onnx.__version__} could not convert "
                                  f"{model.name}: {type(e).__name__}: "
                                  f"{str(e).splitlines()[0] if str(e) else ''}") from None
        side = out.with_name(out.name + ".labels.json")
        _write_sidecar(model, side)
        os.replace(staged, out)
        return out
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
