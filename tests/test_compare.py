"""`zoo evaluate --save-scores` and `zoo compare`: a checkpoint's own saved test scores,
compared with its thresholds, reproduce its metrics.json exactly; score files are checked
with errors that say what and where; user rows reach the leaderboard only when asked."""
import json
from pathlib import Path

import numpy as np
import pytest

import zoo
from zoo import leaderboard as lb
from zoo.cli import main
from zoo.compare import read_scores, resolve_thresholds, write_scores
from zoo.data import benchmarks
from zoo.errors import DataFormatError, ZooError

NAME = "emotions/mlp"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """emotions/mlp's test scores saved via the API (.npy) and the CLI (.csv), its card's
    thresholds dict in a JSON file, and its metrics.json."""
    d = tmp_path_factory.mktemp("scores")
    zoo.evaluate(NAME, split="test", save_scores=d / "mlp.npy")
    assert main(["evaluate", NAME, "--save-scores", str(d / "mlp.csv")]) == 0
    card = zoo.info(NAME)
    (d / "thresholds.json").write_text(json.dumps(card["thresholds"]))
    return {"dir": d, "npy": d / "mlp.npy", "csv": d / "mlp.csv",
            "thresholds": d / "thresholds.json", "metrics": card["metrics"],
            "labels": card["label_names"]}


@pytest.fixture(scope="module")
def test_split():
    return benchmarks.load("emotions", "test")


def _assert_same_metrics(got: dict, want: dict):
    assert set(got) == set(want)
    for k in want:
        assert got[k] == pytest.approx(want[k], abs=1e-12, rel=0), k


# ----------------------------------------------------------------------- the key requirement
def test_saved_files(saved, test_split):
    s = np.load(saved["npy"])
    assert s.shape == (len(test_split), 6) and s.dtype == np.float32
    assert ((s >= 0) & (s <= 1)).all()
    lines = saved["csv"].read_text().splitlines()
    assert lines[0].split(",") == list(test_split.label_names)
    assert len(lines) == len(test_split) + 1
    c, _ = read_scores(saved["csv"], test_split.label_names)
    np.testing.assert_array_equal(c, s.astype(np.float64))      # bit-identical round trip
    assert not list(saved["dir"].glob(".*.tmp"))                  # atomic writes left nothing


@pytest.mark.parametrize("fmt", ["npy", "csv"])
def test_cli_compare_reproduces_checkpoint_metrics(saved, fmt, capsys):
    """Own checkpoint's saved scores + its card's thresholds dict file == its metrics.json."""
    capsys.readouterr()
    assert main(["compare", str(saved[fmt]), "--dataset", "emotions",
                 "--thresholds", str(saved["thresholds"]), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    want = saved["metrics"]
    assert out["thresholds"] == want["thresholds"]
    assert out["num_examples"] == want["num_examples"] and out["split"] == "test"
    _assert_same_metrics(out["metrics"], want["metrics"])


@pytest.mark.parametrize("fmt", ["npy", "csv"])
def test_api_compare_with_checkpoint_name_as_thresholds(saved, fmt):
    r = zoo.compare(saved[fmt], "emotions", thresholds=NAME)
    assert r["name"] == "mlp" and r["dataset"] == "emotions"
    _assert_same_metrics(r["metrics"], saved["metrics"]["metrics"])


def test_csv_columns_matched_by_name(saved, tmp_path, test_split):
    s = np.load(saved["npy"])
    perm = [3, 0, 5, 1, 4, 2]
    names = [test_split.label_names[j] for j in perm]
    path = write_scores(tmp_path / "shuffled.csv", s[:, perm], names)
    r = zoo.compare(path, "emotions", thresholds=saved["thresholds"])
    _assert_same_metrics(r["metrics"], saved["metrics"]["metrics"])
    # Without a header the columns must be in the dataset's order.
    body = "\n".join(saved["csv"].read_text().splitlines()[1:])
    (tmp_path / "noheader.csv").write_text(body + "\n")
    r = zoo.compare(tmp_path / "noheader.csv", "emotions", thresholds=saved["thresholds"])
    _assert_same_metrics(r["metrics"], saved["metrics"]["metrics"])


def test_default_threshold_is_a_global_half(saved):
    s = np.load(saved["npy"])
    a = zoo.compare(s, "emotions")
    b = zoo.compare(s, "emotions", thresholds=0.5)
    c = zoo.compare(s, "emotions", thresholds={"rule": "global", "threshold": 0.5})
    assert a["thresholds"] == {"rule": "global", "threshold": 0.5}
    assert a == b == c
    assert a["name"] == "scores"
    assert a["metrics"]["micro_f1"] != saved["metrics"]["metrics"]["micro_f1"]
    # ranking metrics do not depend on the threshold
    assert a["metrics"]["mean_average_precision"] == saved["metrics"]["metrics"][
        "mean_average_precision"]


def test_threshold_specs(test_split, tmp_path):
    names = list(test_split.label_names)
    per = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    r = resolve_thresholds(per, names)
    assert r.to_dict() == {"rule": "per_label", "thresholds": per}
    assert resolve_thresholds(dict(zip(reversed(names), reversed(per))), names) == r
    (tmp_path / "t.json").write_text(json.dumps(per))
    assert resolve_thresholds(str(tmp_path / "t.json"), names) == r
    (tmp_path / "m.json").write_text(json.dumps({"dataset": "emotions",
                                                 "thresholds": r.to_dict()}))
    assert resolve_thresholds(tmp_path / "m.json", names, "emotions") == r
    with pytest.raises(DataFormatError, match="calibrated for dataset 'emotions', not 'yeast'"):
        resolve_thresholds(tmp_path / "m.json", names, "yeast")
    with pytest.raises(DataFormatError, match="needs 6 values"):
        resolve_thresholds([0.5, 0.5], names)
    with pytest.raises(DataFormatError, match=r"missing \['angry-aggresive'\]"):
        resolve_thresholds(dict(zip(names[:5], per)), names)
    with pytest.raises(DataFormatError, match="no such thresholds file"):
        resolve_thresholds(str(tmp_path / "nope.json"), names)
    with pytest.raises(ZooError, match="neither a JSON file nor a checkpoint name"):
        resolve_thresholds("nosuch/model", names, "emotions")
    with pytest.raises(ZooError, match="for dataset 'yeast', not 'emotions'"):
        resolve_thresholds("yeast/mlp", names, "emotions")
    with pytest.raises(DataFormatError, match="per-label rule has 3 cuts"):
        resolve_thresholds({"rule": "per_label", "thresholds": [0.5] * 3}, names)


# ----------------------------------------------------------------------- errors
@pytest.fixture()
def good(test_split):
    rng = np.random.default_rng(0)
    return rng.random((len(test_split), 6))


def test_wrong_rows_and_columns(good, tmp_path):
    with pytest.raises(DataFormatError, match="expected 202 rows for emotions test .*got 200"):
        zoo.compare(good[:200], "emotions")
    with pytest.raises(DataFormatError, match=r"expected 6 columns.*amazed-suprised.*got 5"):
        zoo.compare(good[:, :5], "emotions")
    np.save(tmp_path / "five.npy", good[:, :5])
    with pytest.raises(DataFormatError, match=r"five.npy: expected 6 columns"):
        zoo.compare(tmp_path / "five.npy", "emotions")
    np.savetxt(tmp_path / "five.csv", good[:, :5], delimiter=",")
    with pytest.raises(DataFormatError, match="expected 6 columns.*got 5.*any order"):
        zoo.compare(tmp_path / "five.csv", "emotions")
    np.save(tmp_path / "flat.npy", good[:, 0])
    with pytest.raises(DataFormatError, match=r"2-D .* got shape \(202,\)"):
        zoo.compare(tmp_path / "flat.npy", "emotions")


def test_csv_header_names(good, tmp_path, test_split):
    names = list(test_split.label_names)
    bad = names[:5] + ["surprised"]
    write_scores(tmp_path / "h.csv", good, bad)
    with pytest.raises(DataFormatError) as e:
        zoo.compare(tmp_path / "h.csv", "emotions")
    msg = str(e.value)
    assert "h.csv, line 1" in msg
    assert "missing label(s) ['angry-aggresive']" in msg and "unknown label(s) ['surprised']" in msg
    write_scores(tmp_path / "idx.csv", np.c_[np.arange(202), good], [""] + names)
    with pytest.raises(DataFormatError, match="index column"):
        zoo.compare(tmp_path / "idx.csv", "emotions")
    write_scores(tmp_path / "dup.csv", good, names[:5] + names[:1])
    with pytest.raises(DataFormatError, match="duplicate label name"):
        zoo.compare(tmp_path / "dup.csv", "emotions")


def test_nan_inf_and_range(good, tmp_path, test_split):
    s = good.copy()
    s[7, 2] = np.nan
    with pytest.raises(DataFormatError, match=r"1 score\(s\) are NaN or infinite, the first "
                                              r"at row 7, column 2 \(0-based; label "
                                              r"'relaxing-calm'\)"):
        zoo.compare(s, "emotions")
    np.save(tmp_path / "nan.npy", s)
    with pytest.raises(DataFormatError, match=r"nan.npy: row 7, column 2"):
        zoo.compare(tmp_path / "nan.npy", "emotions")
    s[7, 2] = 0.5
    s[10, 4] = np.inf
    write_scores(tmp_path / "inf.csv", s, test_split.label_names)
    with pytest.raises(DataFormatError, match=r"inf.csv, line 12, column 5 \(label 'sad-lonely'\)"
                                              r": inf"):
        zoo.compare(tmp_path / "inf.csv", "emotions")
    logits = np.log(good / (1 - good))
    with pytest.raises(DataFormatError, match=r"outside \[0, 1\].*logits .* refused.*sigmoid"):
        zoo.compare(logits, "emotions")
    with pytest.raises(DataFormatError, match="real numbers"):
        zoo.compare(good > 0.5, "emotions")


def test_unreadable_files(tmp_path):
    with pytest.raises(DataFormatError, match="no such file"):
        zoo.compare(tmp_path / "missing.npy", "emotions")
    (tmp_path / "junk.npy").write_bytes(b"not numpy at all")
    with pytest.raises(DataFormatError, match=r"junk.npy: not a readable .npy array"):
        zoo.compare(tmp_path / "junk.npy", "emotions")
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataFormatError, match="not a readable .npy"):
        zoo.compare(tmp_path / "obj.npy", "emotions")
    (tmp_path / "s.txt").write_text("0.5\n")
    with pytest.raises(DataFormatError, match="unknown score file type '.txt'"):
        zoo.compare(tmp_path / "s.txt", "emotions")
    (tmp_path / "latin.csv").write_bytes("caf\xe9,1\n".encode("latin-1"))
    with pytest.raises(DataFormatError, match="not a UTF-8"):
        zoo.compare(tmp_path / "latin.csv", "emotions")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataFormatError, match="empty"):
        zoo.compare(tmp_path / "empty.csv", "emotions")
    (tmp_path / "word.csv").write_text("0.1,0.2,0.3,0.4,0.5,0.6\n0.1,x,0.3,0.4,0.5,0.6\n")
    with pytest.raises(DataFormatError, match=r"word.csv, line 2, column 2: expected a "
                                              r"probability, got 'x'"):
        zoo.compare(tmp_path / "word.csv", "emotions")


def test_cli_errors_exit_2(good, tmp_path, capsys):
    np.save(tmp_path / "short.npy", good[:100])
    assert main(["compare", str(tmp_path / "short.npy"), "--dataset", "emotions"]) == 2
    assert "expected 202 rows for emotions test" in capsys.readouterr().err
    np.save(tmp_path / "ok.npy", good)
    assert main(["compare", str(tmp_path / "ok.npy"), "--dataset", "emotions", "--split",
                 "valid", "--add-to", str(tmp_path / "u.json")]) == 2
    assert "only test-split results go on the leaderboard" in capsys.readouterr().err
    assert not (tmp_path / "u.json").exists()


# ----------------------------------------------------------------------- leaderboard rows
def test_compare_table_add_to_and_leaderboard_extra(saved, tmp_path, capsys):
    user = tmp_path / "results" / "user.json"
    capsys.readouterr()
    assert main(["compare", str(saved["npy"]), "--dataset", "emotions", "--name", "my-net",
                 "--thresholds", NAME, "--add-to", str(user)]) == 0
    out = capsys.readouterr().out
    assert "my-net on emotions [test], 202 examples, thresholds: global cut 0.36814" in out
    marked = [ln for ln in out.splitlines() if ln.startswith("> ")]
    assert marked[-1] == "> the row being compared"
    assert len(marked) == 2 and "my-net" in marked[0] and " user " in marked[0]
    assert "  emotions/mlp " in out and "  br-lr " in out
    doc = json.loads(user.read_text())
    assert doc["format"] == 1 and len(doc["rows"]) == 1
    row = doc["rows"][0]
    assert (row["dataset"], row["name"], row["kind"], row["split"]) == (
        "emotions", "my-net", "user", "test")
    assert row["source"]["file"] == "mlp.npy" and len(row["source"]["sha256"]) == 64
    _assert_same_metrics(row["metrics"], saved["metrics"]["metrics"])
    # the same name again replaces the row; another name adds one
    assert main(["compare", str(saved["csv"]), "--dataset", "emotions", "--name", "my-net",
                 "--add-to", str(user), "--json"]) == 0
    assert main(["compare", str(saved["csv"]), "--dataset", "emotions", "--name", "other",
                 "--add-to", str(user), "--json"]) == 0
    doc = json.loads(user.read_text())
    assert [r["name"] for r in doc["rows"]] == ["my-net", "other"]
    assert doc["rows"][0]["threshold"] == "global"
    capsys.readouterr()
    # user rows appear only when asked for
    assert main(["leaderboard", "--dataset", "emotions"]) == 0
    assert "my-net" not in capsys.readouterr().out
    assert main(["leaderboard", "--dataset", "emotions", "--extra", str(user)]) == 0
    text = capsys.readouterr().out
    assert "my-net" in text and "other" in text and "user rows included" in text
    rows = lb.leaderboard("emotions", extra=user)
    assert [r["kind"] for r in rows][-2:] == ["user", "user"]
    md = lb.render_markdown_document(rows)
    assert "| my-net | user |" in md and "**user** rows" in md
    assert "user" not in lb.render_markdown_document(lb.leaderboard("emotions")).split(
        "## emotions")[1]


def test_user_results_file_is_checked(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"rows": []}))
    with pytest.raises(DataFormatError, match="not a user results file"):
        lb.leaderboard(extra=bad)
    bad.write_text(json.dumps({"format": 1, "rows": [{"dataset": "emotions", "name": "x"}]}))
    with pytest.raises(DataFormatError, match="row 0 needs"):
        lb.leaderboard(extra=bad)
    bad.write_text("{")
    with pytest.raises(DataFormatError, match="not a valid JSON"):
        lb.leaderboard(extra=bad)
    assert lb.user_rows(tmp_path / "none.json") == []


def test_help_explains_formats_and_thresholds(capsys):
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    text = capsys.readouterr().out
    for phrase in (".npy", "header of label names", "logits are refused", "score > 0.5",
                   "checkpoint name", "--add-to"):
        assert phrase in text, phrase


# ----------------------------------------------------------------------- issue 14 item 1
def test_headerless_csv_with_a_typo_in_its_first_row_is_not_a_header(good, tmp_path):
    """Before: a first row with one unparsable cell was taken as a header (and then reported
    as 'missing labels'); a header is recognised by rule, a bad cell is named."""
    rows = [",".join(repr(float(v)) for v in r) for r in good]
    rows[0] = rows[0].replace(rows[0].split(",")[3], "0.1.2", 1)
    (tmp_path / "typo.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(DataFormatError, match=r"typo.csv, line 1, column 4: expected a "
                                              r"probability, got '0.1.2'"):
        zoo.compare(tmp_path / "typo.csv", "emotions")
    rows[0] = ",".join([""] + rows[0].split(",")[1:])
    (tmp_path / "empty.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(DataFormatError, match=r"empty.csv, line 1, column 1"):
        zoo.compare(tmp_path / "empty.csv", "emotions")


def test_threshold_strings_go_through_the_one_parser(test_split):
    names = list(test_split.label_names)
    from zoo import thresholds as th
    assert resolve_thresholds("top_k:2", names) == th.TopK(2)
    assert resolve_thresholds("0.3", names) == th.GlobalThreshold(0.3)
    with pytest.raises(DataFormatError, match=r"outside \[0, 1\].*valid forms"):
        resolve_thresholds(1.5, names)
    with pytest.raises(DataFormatError, match=r"top_k:K.*valid forms"):
        resolve_thresholds("top_k", names)


def test_score_file_io_lives_in_one_module():
    """write/read/check of score files are defined once, in zoo.scores (compare re-exports)."""
    import importlib
    compare_mod = importlib.import_module("zoo.compare")   # zoo.compare is also a function
    scores_mod = importlib.import_module("zoo.scores")
    for fn in ("write_scores", "read_scores", "check_scores"):
        assert getattr(compare_mod, fn) is getattr(scores_mod, fn)
        assert getattr(scores_mod, fn).__module__ == "zoo.scores"
    src = Path(compare_mod.__file__).read_text()
    assert "def write_scores" not in src and "def read_scores" not in src
