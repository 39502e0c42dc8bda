"""Readers for users' own data: CSV (zoo.data.tabular), JSONL/TSV (zoo.data.text), image
folders (zoo.data.images).

Fixtures are written by hand into tmp_path, so every expected value is visible in the test.
Real data: the MULAN emotions training set (round trip through write_csv/read_csv, checked
against an independent numpy parse of the written file) and the first 200 lines of GoEmotions'
train.tsv (checked against a hand-written unquoting parse of the raw lines).
"""
import json
import os
import struct

import numpy as np
import pytest

from zoo.data.dataset import MultiLabelDataset
from zoo.data.images import load_images, read_image_folder
from zoo.data.tabular import read_csv, write_csv
from zoo.data.text import read_jsonl, read_label_names, read_tsv
from zoo.errors import DataFormatError, ZooError


def put(tmp_path, name, content):
    p = tmp_path / name
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_bytes(content.encode("utf-8"))
    return p


def raises(fn, *args, match=None, line=None, column=None, **kw) -> DataFormatError:
    with pytest.raises(DataFormatError, match=match) as ei:
        fn(*args, **kw)
    e = ei.value
    assert isinstance(e, ZooError)
    assert e.line == line, (e.line, str(e))
    if column is not None:
        assert e.column == column, (e.column, str(e))
    return e


# ============================================================================ CSV: layouts

def test_csv_binary_columns_with_features(tmp_path):
    p = put(tmp_path, "d.csv", "id,f1,f2,joy,anger\n7,1.5,-2,1,0\n8,0,3e-1,0,1\n9,1e3,.25,1,1\n")
    ds = read_csv(p, label_columns=["joy", "anger"], feature_columns=["f1", "f2"])
    assert isinstance(ds, MultiLabelDataset) and ds.kind == "features"
    assert ds.x.dtype == np.float32
    np.testing.assert_array_equal(ds.x, np.array([[1.5, -2], [0, 0.3], [1000, 0.25]], np.float32))
    assert ds.feature_names == ["f1", "f2"]
    assert ds.label_names == ["joy", "anger"]
    assert ds.y.dtype == np.int8
    np.testing.assert_array_equal(ds.y, [[1, 0], [0, 1], [1, 1]])
    assert ds.info["lines"] == [2, 3, 4] and ds.info["layout"] == "columns"
    assert ds.info["warnings"] == [] and ds.info["labels_without_positives"] == []


def test_csv_prefix_pattern_unknowns_and_spellings(tmp_path):
    p = put(tmp_path, "d.csv",
            "x,label:b,label:a,other\n"
            "1,1,0,5\n"
            "2,?,TRUE,5\n"
            "3,, false ,5\n"
            "4,-1,1.0,5\n"
            "5,0.0,True,5\n")
    ds = read_csv(p, label_columns="label:*", feature_columns=["x"])
    assert ds.label_names == ["b", "a"]  # file order, prefix removed
    np.testing.assert_array_equal(ds.y, [[1, 0], [-1, 1], [-1, 0], [-1, 1], [0, 1]])
    np.testing.assert_array_equal(ds.x[:, 0], [1, 2, 3, 4, 5])
    # a general pattern keeps the full column names
    ds2 = read_csv(p, label_columns="label:[ab]", feature_columns=["x", "other"])
    assert ds2.label_names == ["label:b", "label:a"]


def test_csv_default_features_are_the_other_columns(tmp_path):
    p = put(tmp_path, "d.csv", "a,y1,b,y2\n1,0,2,1\n3,1,4,0\n")
    ds = read_csv(p, label_columns=["y1", "y2"])
    assert ds.feature_names == ["a", "b"]
    np.testing.assert_array_equal(ds.x, [[1, 2], [3, 4]])


def test_csv_label_list_with_text(tmp_path):
    p = put(tmp_path, "d.csv",
            'id,text,labels\n'
            '1,"hello, world",sport|art\n'
            '2,"a ""quoted""\nmultiline text", art \n'
            '\n'
            '3,nothing,\n'
            '4,x,music| |art\n')
    ds = read_csv(p, text_column="text", label_column="labels")
    assert ds.kind == "text"
    assert ds.x == ["hello, world", 'a "quoted"\nmultiline text', "nothing", "x"]
    assert ds.label_names == ["art", "music", "sport"]  # sorted
    np.testing.assert_array_equal(ds.y, [[1, 0, 1], [1, 0, 0], [0, 0, 0], [1, 1, 0]])
    assert ds.info["lines"] == [2, 4, 6, 7]  # a quoted line break spans lines 3-4; 5 is blank
    assert ds.info["rows_without_labels"] == 1
    assert ds.info["ignored_columns"] == ["id"]


def test_csv_label_names_fix_order_and_warn(tmp_path):
    p = put(tmp_path, "d.csv", "t;tags\na;x,y\nb;y\n")
    ds = read_csv(p, text_column="t", label_column="tags", delimiter=";", label_separator=",",
                  label_names=["y", "z", "x"])
    assert ds.label_names == ["y", "z", "x"]
    np.testing.assert_array_equal(ds.y, [[1, 0, 1], [1, 0, 0]])
    assert ds.info["labels_without_positives"] == ["z"]
    assert len(ds.info["warnings"]) == 1 and "'z'" in ds.info["warnings"][0]
    e = raises(read_csv, p, text_column="t", label_column="tags", delimiter=";",
               label_separator=",", label_names=["x"], line=2, column=2, match="'y'")
    assert "label_names" in str(e)


def test_csv_label_names_with_binary_columns(tmp_path):
    p = put(tmp_path, "d.csv", "f,label:a,label:b\n1,1,0\n2,0,0\n")
    ds = read_csv(p, label_columns="label:*", label_names=["b", "a"])
    assert ds.label_names == ["b", "a"]
    np.testing.assert_array_equal(ds.y, [[0, 1], [0, 0]])
    assert ds.info["labels_without_positives"] == ["b"]
    raises(read_csv, p, label_columns="label:*", label_names=["a"], line=1, column=3,
           match="'label:b'")
    raises(read_csv, p, label_columns="label:*", label_names=["a", "b", "c"], line=1,
           match="'c'.*no column")


def test_csv_crlf_bom_and_latin1(tmp_path):
    p = put(tmp_path, "d.csv", b"\xef\xbb\xbftext,y\r\ncaf\xc3\xa9,1\r\n")
    ds = read_csv(p, text_column="text", label_columns=["y"])
    assert ds.x == ["café"] and ds.feature_names is None
    p2 = put(tmp_path, "l.csv", b"text,y\r\ncaf\xe9,1\r\n")
    e = raises(read_csv, p2, text_column="text", label_columns=["y"], line=2,
               match="byte offset 11")
    assert "encoding=" in str(e) and "0xe9" in str(e)
    assert read_csv(p2, text_column="text", label_columns=["y"], encoding="latin-1").x == ["café"]
    p3 = put(tmp_path, "u16.csv", "text,y\nz,1\n".encode("utf-16"))
    raises(read_csv, p3, text_column="text", label_columns=["y"], line=1, match="utf-16")
    assert read_csv(p3, text_column="text", label_columns=["y"], encoding="utf-16").x == ["z"]


# ============================================================================ CSV: errors

@pytest.mark.parametrize("content, kw, line, column, match", [
    ("a,y\n1,2\n", {}, 2, 2, r"'y'.*holds '2'"),
    ("a,y\n1,1\n2,yes\n", {}, 3, 2, "'yes'"),
    ("a,y\n1,1\n2,1,3\n", {}, 3, None, "expected 2 fields.*got 3"),
    ("a,y\n1,1\n2\n", {}, 3, None, "expected 2 fields.*got 1"),
    ("a,y\n1,1\nabc,0\n", {}, 3, 1, r"'a' holds 'abc', not a number"),
    ("a,y\n1,1\n,0\n", {}, 3, 1, "empty cell in feature column 'a'"),
    ("a,y\n1,1\nnan,0\n", {}, 3, 1, "finite"),
    ("a,y\n1e39,1\n", {}, 2, 1, "finite float32"),
    ("a,y,a\n1,1,1\n", {}, 1, None, "duplicate column names.*'a'"),
    ("", {}, 1, None, "empty"),
    ("\n\n", {}, 1, None, "empty"),
    ("a,y\n", {}, 1, None, "no data rows"),
    ('a,y\n1,"1\n', {}, 2, None, "malformed CSV"),
    ('a,y\n1,"1"x\n', {}, 2, None, "malformed CSV"),
    ("a,y\n1,\x001\n", {}, 2, 3, "NUL"),
    (",a,y\n0,1,1\n", {}, 1, 1, "no name.*index=False"),
    ("a,b\n1,1\n", {}, 1, None, r"'y'.*not in the header.*'a', 'b'"),
    ("a,b\n1,1\n", {"label_columns": "lab*"}, 1, None, "no column matches"),
])
def test_csv_errors(tmp_path, content, kw, line, column, match):
    p = put(tmp_path, "bad.csv", content)
    kw = {"label_columns": ["y"], **kw}
    e = raises(read_csv, p, **kw, line=line, column=column, match=match)
    assert e.path == str(p) and str(p) in str(e)


def test_csv_argument_errors(tmp_path):
    p = put(tmp_path, "d.csv", "a,y\n1,1\n")
    with pytest.raises(ValueError, match="label_columns"):
        read_csv(p)
    with pytest.raises(ValueError, match="exactly one"):
        read_csv(p, label_columns=["y"], label_column="y")
    with pytest.raises(ValueError, match="not both"):
        read_csv(p, label_columns=["y"], text_column="a", feature_columns=["a"])
    with pytest.raises(ValueError, match="delimiter"):
        read_csv(p, label_columns=["y"], delimiter=",,")
    with pytest.raises(ValueError, match="encoding"):
        read_csv(p, label_columns=["y"], encoding="no-such-codec")
    with pytest.raises(FileNotFoundError):
        read_csv(tmp_path / "missing.csv", label_columns=["y"])


# ============================================================================ write_csv

def _emotions_dataset(emotions_train):
    x, y = emotions_train
    y = y.astype(np.int8)
    y[3, 2] = -1  # one unknown label, to exercise partial labels
    return MultiLabelDataset(x=x, y=y, label_names=["amazed-suprised", "happy-pleased",
                                                    "relaxing-calm", "quiet-still", "sad-lonely",
                                                    "angry-aggresive"],
                             feature_names=[f"a{j}" for j in range(x.shape[1])], name="emotions")


def test_write_csv_round_trip_columns_on_emotions(tmp_path, emotions_train):
    ds = _emotions_dataset(emotions_train)
    p = tmp_path / "emotions.csv"
    p.write_text("old content")
    assert write_csv(ds, p) == p
    assert sorted(os.listdir(tmp_path)) == ["emotions.csv"]  # atomic: no temp file left
    back = read_csv(p, label_columns="label:*")
    assert back.label_names == ds.label_names and back.feature_names == ds.feature_names
    assert back.x.dtype == np.float32
    np.testing.assert_array_equal(back.x, ds.x)  # bit-exact float32
    np.testing.assert_array_equal(back.y, ds.y)
    # independent parse of the written file with numpy (no csv module)
    lines = p.read_text().splitlines()
    assert lines[0].split(",") == ds.feature_names + ["label:" + n for n in ds.label_names]
    cells = np.array([ln.split(",") for ln in lines[1:]])
    np.testing.assert_array_equal(cells[:, :72].astype(np.float32), emotions_train[0])
    expect = np.where(ds.y == -1, "?", ds.y.astype(str))
    np.testing.assert_array_equal(cells[:, 72:], expect)


def test_write_csv_round_trip_list_layout(tmp_path, emotions_train):
    x, y = emotions_train
    ds = MultiLabelDataset(x=x[:50], y=y[:50].astype(np.int8), label_names=list("abcdef"))
    p = write_csv(ds, tmp_path / "l.csv", layout="list", label_separator=";")
    back = read_csv(p, label_column="labels", label_separator=";", label_names=list("abcdef"))
    np.testing.assert_array_equal(back.y, ds.y)
    np.testing.assert_array_equal(back.x, ds.x)
    assert back.feature_names == [f"f{j}" for j in range(72)]
    first = p.read_text().splitlines()[1].rsplit(",", 1)[1]
    assert first == ";".join(n for n, v in zip("abcdef", y[0]) if v == 1)


def test_write_csv_text_with_awkward_strings(tmp_path):
    texts = ['a, "b"', "line\nbreak", "cr\ronly", "  spaced  ", "", "é ✓ 😀", "tab\there"]
    y = np.array([[1, 0], [0, 1], [-1, 1], [0, 0], [1, 1], [0, -1], [1, 0]], np.int8)
    ds = MultiLabelDataset(x=texts, y=y, label_names=["x, y", "q\"r"], kind="text")
    p = write_csv(ds, tmp_path / "t.csv")
    back = read_csv(p, text_column="text", label_columns="label:*")
    assert back.x == texts and back.label_names == ["x, y", "q\"r"]
    np.testing.assert_array_equal(back.y, y)
    with pytest.raises(DataFormatError, match="unknown"):
        write_csv(ds, tmp_path / "u.csv", layout="list")
    ds2 = MultiLabelDataset(x=["a"], y=np.ones((1, 1), np.int8), label_names=["p|q"], kind="text")
    with pytest.raises(DataFormatError, match="separator"):
        write_csv(ds2, tmp_path / "s.csv", layout="list")
    assert not (tmp_path / "u.csv").exists() and not (tmp_path / "s.csv").exists()


# ============================================================================ JSONL

def test_jsonl_names_and_ids(tmp_path):
    p = put(tmp_path, "d.jsonl",
            '{"text": "a", "labels": ["joy", "fear"], "id": 1}\r\n'
            '\n'
            '{"labels": [], "text": "b\u2028c"}\n'
            '{"text": "d", "labels": ["joy"]}')  # no final newline
    ds = read_jsonl(p)
    assert ds.kind == "text" and ds.x == ["a", "b\u2028c", "d"]
    assert ds.label_names == ["fear", "joy"]
    np.testing.assert_array_equal(ds.y, [[1, 1], [0, 0], [0, 1]])
    assert ds.info["lines"] == [1, 3, 4]
    q = put(tmp_path, "ids.jsonl", '{"t": "a", "y": [2, 0, 2]}\n{"t": "b", "y": ["b"]}\n')
    ds = read_jsonl(q, text_field="t", labels_field="y", label_names=["a", "b", "c"])
    np.testing.assert_array_equal(ds.y, [[1, 0, 1], [0, 1, 0]])
    assert ds.info["warnings"] == []


@pytest.mark.parametrize("content, kw, line, column, match", [
    ('{"text": "a", "labels": []}\n{"text": "b", "labels": [}\n', {}, 2, 26, "invalid JSON"),
    ('{"text": "a", "labels": []}\n{"text": "b" "labels": []}\n', {}, 2, 14, "delimiter"),
    ('["a", []]\n', {}, 1, None, "expected a JSON object.*a list"),
    ('{"text": "a"}\n', {}, 1, None, "no field 'labels'"),
    ('{"body": "a", "labels": []}\n', {}, 1, None, r"no field 'text' \(fields: 'body'"),
    ('{"text": 3, "labels": []}\n', {}, 1, None, "'text' must be a string, got an integer 3"),
    ('{"text": "a", "labels": "joy"}\n', {}, 1, None, "must be a list"),
    ('{"text": "a", "labels": [true]}\n', {"label_names": ["x"]}, 1, None, "a boolean"),
    ('{"text": "a", "labels": [1.0]}\n', {"label_names": ["x", "y"]}, 1, None, "a number"),
    ('{"text": "a", "labels": [2]}\n', {"label_names": ["x", "y"]}, 1, None, "out of range"),
    ('{"text": "a", "labels": [-1]}\n', {"label_names": ["x", "y"]}, 1, None, "out of range"),
    ('{"text": "a", "labels": [0]}\n', {}, 1, None, "needs label_names"),
    ('{"text": "a", "labels": [" "]}\n', {}, 1, None, "empty label name"),
    ('{"text": null, "labels": []}\n', {}, 1, None, "got null$"),
    ('{"text": "a", "labels": ["z"]}\n', {"label_names": ["x"]}, 1, None, "'z' is not one of"),
    ('{"text": "\\ud800", "labels": []}\n', {}, 1, None, "surrogate"),
    ('{"text": "a", "labels": [' + "9" * 5000 + "]}\n", {}, 1, None, "invalid JSON"),
    ("[" * 100000 + "\n", {}, 1, None, "invalid JSON"),
    ("\n \n", {}, 1, None, "no JSON objects"),
])
def test_jsonl_errors(tmp_path, content, kw, line, column, match):
    p = put(tmp_path, "bad.jsonl", content)
    e = raises(read_jsonl, p, **kw, line=line, column=column, match=match)
    assert e.path == str(p)


# ============================================================================ TSV / GoEmotions

def _manual_goemotions(lines, n_labels):
    """Independent parse: split on tabs, undo CSV quoting by hand, ids -> one-hot."""
    texts, ids, y = [], [], np.zeros((len(lines), n_labels), np.int8)
    for i, line in enumerate(lines):
        text, labs, cid = line.split("\t")
        if text.startswith('"'):
            assert text.endswith('"')
            text = text[1:-1].replace('""', '"')
        for k in labs.split(","):
            y[i, int(k)] = 1
        texts.append(text)
        ids.append(cid)
    return texts, y, ids


def test_goemotions_excerpt(tmp_path, mirror):
    raw = (mirror / "goemotions" / "train.tsv").read_bytes().split(b"\n")[:200]
    p = put(tmp_path, "train200.tsv", b"\n".join(raw) + b"\n")
    names = read_label_names(mirror / "goemotions" / "labels.txt")
    assert len(names) == 28 and names[0] == "admiration" and names[-1] == "neutral"
    ds = read_tsv(p, label_names=names, id_column=2, name="goemotions", split="train")
    texts, y, ids = _manual_goemotions([r.decode("utf-8") for r in raw], 28)
    assert sum('"' in r.decode()[:1] for r in raw) > 0  # the excerpt exercises quoting
    assert ds.x == texts and ds.info["ids"] == ids
    np.testing.assert_array_equal(ds.y, y)
    assert ds.label_names == names and ds.kind == "text" and len(ds) == 200
    assert ds.x[123] == 'Three words, no subtlety. "Dude. Stop. Seriously." '
    # labels without a positive in the excerpt are reported, computed independently
    assert ds.info["labels_without_positives"] == [n for k, n in enumerate(names)
                                                   if not y[:, k].any()]


def test_tsv_names_header_and_errors(tmp_path):
    p = put(tmp_path, "d.tsv", "a b\t10,2\nc\t\nd\t2\n")
    ds = read_tsv(p)
    assert ds.x == ["a b", "c", "d"] and ds.label_names == ["2", "10"]  # numeric order
    np.testing.assert_array_equal(ds.y, [[1, 1], [0, 0], [1, 0]])
    q = put(tmp_path, "h.tsv", "id\tlabels\ttext\n1\tx;y\thello\n")
    ds = read_tsv(q, text_column="text", labels_column="labels", header=True,
                  label_separator=";", id_column="id")
    assert ds.x == ["hello"] and ds.label_names == ["x", "y"] and ds.info["ids"] == ["1"]
    raises(read_tsv, put(tmp_path, "r.tsv", "a\t1\nb\t1\tz\n"), line=2,
           match="expected 2 fields as on line 1")
    raises(read_tsv, put(tmp_path, "o.tsv", "a\t0\nb\t5\n"), label_names=["x", "y"], line=2,
           column=2, match="id 5 is out of range")
    raises(read_tsv, put(tmp_path, "u.tsv", "a\tx\nb\tw\n"), label_names=["x", "y"], line=2,
           column=2, match="'w' is not one of")
    raises(read_tsv, put(tmp_path, "s.tsv", "a\t1\n"), labels_column=5, line=1,
           match="out of range")
    # quoting: on by default (pandas/GoEmotions); quoted=False keeps quotes as text
    r = put(tmp_path, "q.tsv", '"Hi" she said\tx\n"ok"\ty\n')
    raises(read_tsv, r, line=1, match="malformed.*quoted=False")
    assert read_tsv(r, quoted=False).x == ['"Hi" she said', '"ok"']
    assert read_tsv(put(tmp_path, "q2.tsv", '"ok"\ty\n')).x == ["ok"]
    # a label name that is itself a number wins over the id reading
    ds = read_tsv(put(tmp_path, "n.tsv", "a\t1\n"), label_names=["0", "1", "x"])
    np.testing.assert_array_equal(ds.y, [[0, 1, 0]])


def test_label_names_file_errors(tmp_path):
    raises(read_label_names, put(tmp_path, "l.txt", "a\nb\na\n"), line=3, match="twice")
    raises(read_label_names, put(tmp_path, "e.txt", "\n\n"), line=1, match="no label")


# ============================================================================ images

def _bmp24(img):
    """A 24-bit bottom-up BMP written by hand (BITMAPINFOHEADER), independent of TF."""
    h, w, _ = img.shape
    stride = (w * 3 + 3) // 4 * 4
    pix = b"".join(img[h - 1 - r, :, ::-1].tobytes() + b"\0" * (stride - 3 * w) for r in range(h))
    return (b"BM" + struct.pack("<IHHI", 54 + len(pix), 0, 0, 54)
            + struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(pix), 2835, 2835, 0, 0) + pix)


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    import tensorflow as tf

    root = tmp_path_factory.mktemp("photos")
    (root / "img").mkdir()
    rng = np.random.default_rng(0)
    imgs = {"img/a.png": rng.integers(0, 256, (6, 5, 3), dtype=np.uint8),
            "img/b.PNG": rng.integers(0, 256, (6, 5, 1), dtype=np.uint8),
            "c.bmp": rng.integers(0, 256, (6, 5, 3), dtype=np.uint8),
            "img/d.png": rng.integers(0, 256, (6, 5, 4), dtype=np.uint8)}
    for rel, img in imgs.items():
        data = _bmp24(img) if rel.endswith(".bmp") else tf.io.encode_png(img).numpy()
        (root / rel).write_bytes(data)
    (root / "labels.csv").write_text("path,cat,dog\nimg/a.png,1,0\nimg/b.PNG,0,1\n"
                                     "c.bmp,1,?\nimg/d.png,0,0\n")
    return root, imgs


def test_image_folder_binary_columns_and_decode(image_folder, tmp_path):
    root, imgs = image_folder
    ds = read_image_folder(root, split="train")
    assert ds.kind == "image" and ds.label_names == ["cat", "dog"] and ds.split == "train"
    assert ds.x == [os.path.join(os.path.abspath(root), r) for r in imgs]
    assert all(os.path.isabs(p) and os.path.isfile(p) for p in ds.x)
    np.testing.assert_array_equal(ds.y, [[1, 0], [0, 1], [1, -1], [0, 0]])
    a, b, c, d = imgs.values()
    rgb = load_images(ds.x)
    assert rgb.shape == (4, 6, 5, 3) and rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb[0], a)
    np.testing.assert_array_equal(rgb[1], np.repeat(b, 3, axis=-1))  # grey replicated
    np.testing.assert_array_equal(rgb[2], c)  # hand-written BMP
    np.testing.assert_array_equal(rgb[3], d[..., :3])  # alpha dropped
    grey = load_images(ds.x[:1], channels=1)
    ref = np.clip(np.round(a.astype(np.float64) @ [0.2989, 0.587, 0.114]), 0, 255)
    assert np.abs(grey[0, ..., 0].astype(int) - ref).max() <= 1
    rgba = load_images(ds.x[1:2], channels=4)
    np.testing.assert_array_equal(rgba[0, ..., 3], 255)
    small = load_images(ds.x, size=(3, 2))
    assert small.shape == (4, 3, 2, 3)
    flat = _write_png(tmp_path / "flat.png", (6, 5, 3), value=77)
    np.testing.assert_array_equal(load_images([flat], size=4), 77)  # resizing keeps a constant
    with pytest.raises(DataFormatError, match="pass channels"):
        load_images(ds.x[:2], channels=None)


def test_image_folder_list_layout_and_errors(image_folder, tmp_path):
    root, imgs = image_folder
    csv = tmp_path / "lab.csv"  # absolute labels_csv outside root, 'filename' column
    csv.write_text("filename,labels\nimg/a.png,dog|cat\nc.bmp,\n")
    ds = read_image_folder(root, csv, label_column="labels")
    assert ds.label_names == ["cat", "dog"] and len(ds) == 2
    np.testing.assert_array_equal(ds.y, [[1, 1], [0, 0]])

    csv.write_text("filename,y\n" + "".join(f"gone{i}.png,1\n" for i in range(7)) + "c.bmp,0\n")
    e = raises(read_image_folder, root, csv, line=2, column=1, match="7 of 8 image files")
    assert "line 2:" in str(e) and "line 6:" in str(e) and "line 7:" not in str(e)
    assert "and 2 more" in str(e) and os.path.join(str(root), "gone0.png") in str(e)
    csv.write_text("path,y\nc.bmp,1\nnotes.txt,0\n")
    raises(read_image_folder, root, csv, line=3, column=1, match="'notes.txt'.*extension")
    csv.write_text("file,y\nc.bmp,1\n")
    raises(read_image_folder, root, csv, line=1, match="'path' or 'filename'")
    csv.write_text("path,y\nc.bmp,2\n")
    raises(read_image_folder, root, csv, line=2, column=2, match="holds '2'")

    bad = tmp_path / "broken.png"
    bad.write_bytes((root / "img/a.png").read_bytes()[:30])
    e = raises(load_images, [root / "c.bmp", bad], line=None, match="cannot decode")
    assert e.path == str(bad)
    with pytest.raises(DataFormatError, match="size="):
        load_images([root / "c.bmp", _write_png(tmp_path / "big.png", (9, 9, 3))])


def _write_png(path, shape, value=0):
    import tensorflow as tf
    path.write_bytes(tf.io.encode_png(np.full(shape, value, np.uint8)).numpy())
    return path


# ============================================================================ feature rows to score
# (zoo.data.tabular.read_feature_rows, behind `zoo predict MODEL rows.csv`; issue 14 item 1)

from zoo.data.tabular import is_header_row, read_feature_rows  # noqa: E402
from zoo.data.validate import check_finite, handle_missing  # noqa: E402


def test_feature_rows_headerless_typo_in_first_row_is_an_error_not_a_header(tmp_path):
    # before: the first row was taken as a header because '1.2.3' failed to parse, and the
    # file silently gave 2 rows for 3
    p = put(tmp_path, "f.csv", "1.2.3,4,5\n1,2,3\n4,5,6\n")
    e = raises(read_feature_rows, p, line=1, column=1, match="'1.2.3', not a number")
    assert str(p) in str(e)


def test_feature_rows_headerless_empty_cell_in_first_row_is_an_error(tmp_path):
    p = put(tmp_path, "f.csv", "1,,3\n1,2,3\n")
    raises(read_feature_rows, p, line=1, column=2, match="empty cell")
    x = read_feature_rows(p, missing="mean")       # imputed only when asked
    np.testing.assert_array_equal(x, [[1, 2, 3], [1, 2, 3]])


def test_feature_rows_header_by_rule(tmp_path):
    assert is_header_row(["a", "b"]) and not is_header_row(["a", "1"])
    assert not is_header_row(["a", ""]) and is_header_row(["1", "2"], known_names=["1", "2"])
    p = put(tmp_path, "h.csv", "f1,f2\n1,2\n3,4\n")
    x, info = read_feature_rows(p, return_info=True)
    np.testing.assert_array_equal(x, [[1, 2], [3, 4]])
    assert info["header"] == ["f1", "f2"] and info["lines"] == [2, 3]
    # headerless: every row is data
    p = put(tmp_path, "n.csv", "1,2\n3,4\n5,6\n")
    assert read_feature_rows(p).shape == (3, 2)
    # a header of the model's feature names (numeric-looking names too), any order, ids and
    # label columns left out
    p = put(tmp_path, "k.csv", "id,1,0,label:x\nA,2,1,1\nB,4,3,0\n")
    x, info = read_feature_rows(p, feature_names=["0", "1"], return_info=True)
    np.testing.assert_array_equal(x, [[1, 2], [3, 4]])
    assert info["ignored_columns"] == ["id", "label:x"]


def test_feature_rows_width_is_checked(tmp_path):
    p = put(tmp_path, "w.csv", "1,2,3\n")
    raises(read_feature_rows, p, num_features=4, line=1, match="expected 4 feature columns")


@pytest.mark.parametrize("cell", ["nan", "NaN", "?", " "])
def test_feature_rows_missing_values_refused_with_row_and_column(tmp_path, cell):
    p = put(tmp_path, "m.csv", f"f1,f2\n1,2\n3,{cell}\n")
    e = raises(read_feature_rows, p, line=3, column=2)
    assert "missing='mean'" in str(e)
    x, info = read_feature_rows(p, missing="mean", return_info=True)
    np.testing.assert_array_equal(x, [[1, 2], [3, 2]])
    assert info["imputed"] == 1


def test_feature_rows_inf_refused_even_with_imputation(tmp_path):
    p = put(tmp_path, "i.csv", "1,2\n3,inf\n")
    raises(read_feature_rows, p, line=2, column=2, match="finite")
    raises(read_feature_rows, p, missing="mean", line=2, column=2, match="NaN or infinite")


def test_feature_rows_npy_nan_refused_with_row_and_column(tmp_path):
    p = tmp_path / "x.npy"
    np.save(p, np.array([[1.0, 2.0], [np.nan, 4.0]], np.float32))
    with pytest.raises(DataFormatError, match=r"x\.npy\[1, 0\] \(0-based row, column\) = nan"):
        read_feature_rows(p)
    np.testing.assert_array_equal(read_feature_rows(p, missing="mean"), [[1, 2], [1, 4]])
    np.save(p, np.ones((2, 3)))
    with pytest.raises(DataFormatError, match="expected 2 feature columns, got 3"):
        read_feature_rows(p, num_features=2)
    with pytest.raises(ValueError, match="missing must be one of"):
        read_feature_rows(p, missing="zero")


def test_check_finite_names_row_column_and_feature():
    x = np.zeros((3, 2), np.float32)
    assert check_finite(x, "x") is x
    x[2, 1] = np.inf
    with pytest.raises(DataFormatError, match=r"inputs\[2, 1\] \(0-based row, column\) "
                                              r"\(feature 'b'\) = inf"):
        check_finite(x, "inputs", feature_names=["a", "b"])
    import scipy.sparse as sp
    with pytest.raises(DataFormatError, match=r"\[2, 1\]"):
        check_finite(sp.csr_matrix(x), "inputs")
    assert check_finite(np.array([[1, 2]]), "ints").dtype.kind == "i"
    with pytest.raises(DataFormatError, match="no value at all"):
        handle_missing(np.array([[np.nan, 1.0], [np.nan, 2.0]]), "mean")


def test_read_csv_missing_policy(tmp_path):
    p = put(tmp_path, "d.csv", "a,b,y\n1,,1\n3,4,0\n5,nan,1\n")
    raises(read_csv, p, label_columns=["y"], line=2, column=2, match="empty cell")
    ds = read_csv(p, label_columns=["y"], missing="mean")
    np.testing.assert_array_equal(ds.x, [[1, 4], [3, 4], [5, 4]])
    assert ds.info["imputed"] == 2
