"""Readers, named benchmark datasets and tf.data pipelines.

    >>> from zoo import data
    >>> data.list_datasets()[:3]
    ['emotions', 'yeast', 'scene']
    >>> train = data.load("yeast", "train")        # MultiLabelDataset: .x, .y, .label_names
"""
from zoo.data.dataset import MultiLabelDataset
from zoo.data.benchmarks import list_datasets, load, summary, describe
from zoo.data.arff import read_arff, read_mulan
from zoo.data.libsvm import read_libsvm, write_libsvm
from zoo.data.tabular import read_csv, write_csv
from zoo.data.text import read_jsonl, read_tsv
from zoo.data.images import read_image_folder, load_images
from zoo.data.stratify import iterative_stratification, train_valid_split

__all__ = ["MultiLabelDataset", "list_datasets", "load", "summary", "describe", "read_arff",
           "read_mulan", "read_libsvm", "write_libsvm", "read_csv", "write_csv", "read_jsonl",
           "read_tsv", "read_image_folder", "load_images", "iterative_stratification",
           "train_valid_split", "read_any", "reader_format"]


# --------------------------------------------------------------------------- read_any

#: File extension -> reader format of :func:`read_any` (a folder is an image folder).
FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
           ".arff": "arff", ".svm": "libsvm", ".libsvm": "libsvm", ".txt": "libsvm"}
READER_OPTIONS = {
    "csv": {"label_columns", "label_column", "feature_columns", "text_column", "label_names",
            "delimiter", "label_separator", "encoding"},
    "tsv": {"text_column", "label_column", "label_names", "label_separator", "header",
            "id_column", "quoted", "encoding"},
    "jsonl": {"text_column", "label_column", "label_names", "encoding"},
    "arff": {"xml", "id_attributes"},
    "libsvm": {"num_features", "num_labels", "header", "index_base"},
    "images": {"labels_csv", "path_column", "label_columns", "label_column", "label_names",
               "label_separator", "delimiter", "encoding"},
}


def read_any(path, *, format: str | None = None, name: str | None = None,
             split: str | None = None, **options) -> MultiLabelDataset:
    """Read a user's data file with the reader its extension names (``zoo finetune``'s input).

    ``.csv`` :func:`read_csv`, ``.tsv`` :func:`read_tsv`, ``.jsonl``/``.ndjson``
    :func:`read_jsonl`, ``.arff`` :func:`read_mulan` (label file: ``xml=``, else
    ``<stem>.xml`` or, for ``<name>-train.arff``, ``<name>.xml`` next to it),
    ``.svm``/``.libsvm``/``.txt`` :func:`read_libsvm`, a folder :func:`read_image_folder`;
    ``format=`` (``"csv"``, ``"tsv"``, ``"jsonl"``, ``"arff"``, ``"libsvm"``, ``"images"``)
    overrides the extension. Options left at ``None`` are dropped; the others go to the reader,
    with the shared names ``text_column`` (JSONL: ``text_field``) and ``label_column``
    (JSONL: ``labels_field``; TSV: ``labels_column``) translated. An option the reader does
    not take is a ``ValueError``.

    A CSV file read without ``label_columns``/``label_column`` uses what :func:`write_csv`
    writes: the columns named ``label:<name>`` (``label_columns="label:*"``), else a column
    named ``labels`` (a label list joined by ``label_separator``); with neither it is an
    error listing the header. Likewise a column named ``text`` is the input text unless
    ``text_column`` or ``feature_columns`` say otherwise.

    Example::

        >>> ds = read_any("reviews.csv")                 # columns text, label:food, label:price
        >>> ds = read_any("train.jsonl", label_names=["joy", "anger"])
    """
    from pathlib import Path

    from zoo.errors import DataFormatError
    path = Path(path)
    options = {k: v for k, v in options.items() if v is not None}
    format = reader_format(path, format)
    extra = sorted(set(options) - READER_OPTIONS[format])
    if extra:
        raise ValueError(f"option(s) {extra} do not apply to {format} files ({path}); "
                         f"{format} takes {sorted(READER_OPTIONS[format])}")
    if not path.exists():
        raise FileNotFoundError(f"no such {'folder' if format == 'images' else 'file'}: {path}")
    where = {"name": name, "split": split}
    if format == "csv":
        need_labels = "label_columns" not in options and "label_column" not in options
        need_input = "text_column" not in options and "feature_columns" not in options
        header = _csv_header(path, options.get("encoding", "utf-8"),
                             options.get("delimiter", ",")) if need_labels or need_input else []
        if need_labels:
            if any(h.startswith("label:") for h in header):
                options["label_columns"] = "label:*"
            elif "labels" in header:
                options["label_column"] = "labels"
            else:
                from zoo.data.tabular import _show_names
                raise DataFormatError(
                    "no label columns: name them with label_columns=[...] (zoo finetune: "
                    "--label-columns a,b,c) or a pattern such as 'y_*', or name one column of "
                    "label lists with label_column= (--label-column COL); without them, "
                    "columns 'label:<name>' or a column 'labels' are used, and the header has "
                    f"neither: {_show_names(header)}", path=path, line=1)
        labels = options.get("label_columns") or [options.get("label_column")]
        if need_input and "text" in header and (isinstance(labels, str) or "text" not in labels):
            options["text_column"] = "text"
        return read_csv(path, **options, **where)
    if format == "tsv":
        if "label_column" in options:
            options["labels_column"] = options.pop("label_column")
        return read_tsv(path, **options, **where)
    if format == "jsonl":
        if "text_column" in options:
            options["text_field"] = options.pop("text_column")
        if "label_column" in options:
            options["labels_field"] = options.pop("label_column")
        return read_jsonl(path, **options, **where)
    if format == "arff":
        xml = options.pop("xml", None)
        if xml is None:
            stem = path.stem
            candidates = [path.with_suffix(".xml")]
            for suffix in ("-train", "-test", "-valid", "_train", "_test", "_valid"):
                if stem.endswith(suffix):
                    candidates.append(path.with_name(stem[:-len(suffix)] + ".xml"))
            xml = next((c for c in candidates if c.is_file()), None)
            if xml is None:
                raise DataFormatError("an ARFF file needs its MULAN XML label file: pass xml= "
                                      f"(looked for {', '.join(c.name for c in candidates)})",
                                      path=path)
        return read_mulan(path, xml, **options, **where)
    if format == "libsvm":
        return read_libsvm(path, **options, **where)
    return read_image_folder(path, **options, **where)


def reader_format(path, format: str | None = None) -> str:
    """The :func:`read_any` format of ``path``: ``format`` if given, else from the extension
    (a folder is ``"images"``); an unknown extension is a DataFormatError."""
    from pathlib import Path

    from zoo.errors import DataFormatError
    path = Path(path)
    if format is not None:
        if format not in READER_OPTIONS:
            raise ValueError(f"unknown format {format!r}; known: {sorted(READER_OPTIONS)}")
        return format
    if path.is_dir():
        return "images"
    found = FORMATS.get(path.suffix.lower())
    if found is None:
        if not path.exists():
            raise FileNotFoundError(f"no such file: {path}")
        raise DataFormatError(
            f"cannot tell the format from the extension {path.suffix or '(none)'!r}; known: "
            f"{', '.join(sorted(FORMATS))} or an image folder (or pass format= one of "
            f"{sorted(READER_OPTIONS)})", path=path)
    return found


def _csv_header(path, encoding: str, delimiter: str) -> list:
    """The header row of a CSV file (decoding errors are reported as read_csv reports them)."""
    import csv
    import io

    from zoo.data.tabular import _decode_file
    text = _decode_file(path, encoding)
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        if row:
            return row
    return []
