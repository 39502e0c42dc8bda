"""Export the zoo's text benchmark splits in LibMultiLabel's input format (run with the zoo venv).

LibMultiLabel (https://github.com/ASUS-AICS/LibMultiLabel, PyPI ``libmultilabel``) reads its
"txt" format: one document a line, ``<labels><TAB><text>``, the labels separated by spaces
(``libmultilabel.linear.data_utils._read_libmultilabel_format`` reads it with pandas,
``sep="\\t"``, no quoting, and splits the label field on whitespace;
``libmultilabel.nn.data_utils._load_raw_data`` reads the same format). So a text must hold no
tab and no line break, and a label name no whitespace: the exporter collapses every run of
whitespace in a text to one space (LibMultiLabel's tokenizers split on non-word characters
anyway) and refuses a label name with whitespace or a text left empty.

For each dataset it writes ``<out>/<dataset>/{train,valid,test}.txt`` (the zoo's own splits,
``zoo.data.load(dataset, split)``: ``train`` is the official train minus the stratified 10%
``valid`` carve-out the checkpoints use, except GoEmotions whose ``valid`` is the official
dev split), ``labels.txt`` (one label a line, in the zoo's label order: the column order the
peer runner writes its score matrices in) and ``manifest.json`` (row and label counts and the
SHA-256 of every file, so ``score.py`` can check that the scores belong to these files).

Usage (from the repository root)::

    ZOO_DATA_DIR=/work/shared/datasets PYTHONPATH=$PWD .venv/bin/python \\
        benchmarks/peers/export_splits.py --out /work/peer-data [--datasets reuters21578,goemotions]

Example (a tiny dataset)::

    >>> import numpy as np, tempfile, pathlib
    >>> from zoo.data import MultiLabelDataset
    >>> ds = MultiLabelDataset(x=["a\\tb\\nc", "d"], y=np.array([[1, 1], [0, 1]], np.int8),
    ...                        label_names=["x", "y"], kind="text")
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.txt"
    >>> write_txt(ds, p)
    2
    >>> p.read_text()
    'x y\\ta b c\\ny\\td\\n'
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

DATASETS = ("reuters21578", "goemotions")
SPLITS = ("train", "valid", "test")
FORMAT = 1
_WS = re.compile(r"\s+")
#: Cells that pandas.read_csv (LibMultiLabel's reader) turns into NaN by default; the library
#: then reads them as an empty string, so such a text would silently lose its content.
PANDAS_NA = frozenset({"#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
                       "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a",
                       "nan", "null"})


def clean_text(text: str) -> str:
    """``text`` on one line: every run of whitespace (tabs, line breaks) becomes one space.

    >>> clean_text("  BAHIA COCOA\\nShowers\\tcontinued  ")
    'BAHIA COCOA Showers continued'
    """
    return _WS.sub(" ", str(text)).strip()


def check_label_names(names) -> list[str]:
    """The label names as strings; a name that LibMultiLabel's space-separated label field
    cannot hold (empty, or with whitespace) is refused with its position."""
    out = []
    for j, n in enumerate(names):
        s = str(n)
        if not s or _WS.search(s) or s in PANDAS_NA:
            raise ValueError(f"label {j} ({s!r}): LibMultiLabel's txt format separates labels "
                             "by whitespace, so a label name must be non-empty without spaces (and not a "
                             "cell pandas reads as NaN)")
        out.append(s)
    return out


def txt_lines(ds) -> list[str]:
    """The LibMultiLabel txt lines of a text :class:`zoo.data.MultiLabelDataset`.

    Unknown label cells (-1, partial labels) are not positives; a row without positives gets
    an empty label field (LibMultiLabel keeps such training rows unless told otherwise).
    """
    if ds.kind != "text":
        raise ValueError(f"{ds.name or 'dataset'}: LibMultiLabel's txt format is for text "
                         f"datasets, this one is {ds.kind!r}")
    names = check_label_names(ds.label_names)
    y = ds.labels_dense()
    lines = []
    for i, (text, row) in enumerate(zip(ds.x, y)):
        t = clean_text(text)
        if not t or t in PANDAS_NA:
            raise ValueError(f"{ds.name or 'dataset'} {ds.split or ''} row {i}: the text "
                             f"{t!r} would reach LibMultiLabel empty (empty after whitespace "
                             "clean-up, or a cell pandas reads as NaN)")
        labels = " ".join(names[j] for j in np.flatnonzero(row == 1))
        lines.append(f"{labels}\t{t}")
    return lines


def write_txt(ds, path) -> int:
    """Write ``ds`` to ``path`` in LibMultiLabel's txt format (atomic); returns the row count."""
    from zoo._io import atomic_write_text
    lines = txt_lines(ds)
    atomic_write_text(path, "".join(line + "\n" for line in lines))
    return len(lines)


def export_dataset(name: str, out, loader=None) -> dict:
    """Write ``<out>/<name>/{train,valid,test}.txt``, ``labels.txt`` and ``manifest.json``;
    returns the manifest. ``loader(name, split)`` defaults to :func:`zoo.data.load`."""
    from zoo._io import atomic_write_text, sha256_file
    if loader is None:
        from zoo.data import load as loader
    folder = Path(out) / name
    manifest = {"format": FORMAT, "dataset": name, "splits": {}, "files": {}}
    label_names = None
    for split in SPLITS:
        ds = loader(name, split)
        if label_names is None:
            label_names = check_label_names(ds.label_names)
        elif check_label_names(ds.label_names) != label_names:
            raise ValueError(f"{name}: split {split!r} has other labels than 'train'")
        n = write_txt(ds, folder / f"{split}.txt")
        manifest["splits"][split] = {"rows": n,
                                     "positives": int((ds.labels_dense() == 1).sum())}
    atomic_write_text(folder / "labels.txt", "".join(n + "\n" for n in label_names))
    manifest["labels"] = label_names
    for f in [f"{s}.txt" for s in SPLITS] + ["labels.txt"]:
        manifest["files"][f] = sha256_file(folder / f)
    atomic_write_text(folder / "manifest.json", json.dumps(manifest, indent=1) + "\n")
    return manifest


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="folder to write <dataset>/ folders into")
    p.add_argument("--datasets", default=",".join(DATASETS))
    a = p.parse_args(argv)
    for name in a.datasets.split(","):
        m = export_dataset(name, a.out)
        sizes = ", ".join(f"{s} {v['rows']}" for s, v in m["splits"].items())
        print(f"{name}: {sizes} rows, {len(m['labels'])} labels -> {Path(a.out) / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
