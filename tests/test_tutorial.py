"""docs/tutorial.md is run, block by block and in order, so it cannot rot.

Every fenced ```bash and ```python block of the tutorial runs in one temporary working
directory, unless the comment line just above its fence says ``<!-- tutorial-test: skip -->``.

* bash blocks hold ``$ command`` lines (a trailing ``\\`` continues a command), each followed
  by the output it prints. A ``zoo ...`` command runs ``zoo.cli.main`` in this process (one
  TensorFlow import for the whole tutorial; ``ZOO_TUTORIAL_SUBPROCESS=1`` runs
  ``python -m zoo`` in a fresh process for each instead), anything else (``head``, ``cut``,
  ``ls``) through ``sh``. The first ``zoo`` command always runs as ``python -m zoo``, so the
  real entry point is covered too.
* python blocks are doctests (``>>>`` / ``...`` prompts) sharing one namespace.

Each command must exit with 0 (``<!-- tutorial-test: exit=2 -->``: with 2) and print what the
block shows (stdout and stderr together, as in a terminal; TensorFlow's start-up log lines
are ignored). A ``...`` in the shown output stands for any text (the tutorial trims long
output so); whitespace runs compare equal; a number with a decimal point may differ by
``TOLERANCE`` (training results vary a little between machines); a leaderboard's best-value
``*`` after a number is ignored (it moves when checkpoints are added).
``<!-- tutorial-test: nocheck -->`` runs a block without comparing its output (training
progress and wall times); what those blocks produce is checked by the assertions at the end
of :func:`test_tutorial`.
"""
from __future__ import annotations

import contextlib
import doctest
import io
import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "tutorial.md"
TOLERANCE = 0.05
MARK = re.compile(r"<!--\s*tutorial-test:\s*(.*?)\s*-->")
FENCE = re.compile(r"^```(\w*)\s*$")
NUMBER = re.compile(r"-?\d+\.\d+(?:[eE][-+]?\d+)?")
# TensorFlow / absl start-up chatter on stderr (not part of what the tutorial shows)
TF_NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\)|"
                      r"[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ |To enable the following instructions:)")


# ----------------------------------------------------------------------------- parsing
@dataclass
class Block:
    lang: str
    text: str
    line: int                      # 1-based line of the opening fence in the doc
    options: dict = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{DOC.name}, block at line {self.line}"


def parse_blocks(text: str) -> list[Block]:
    """The ```bash and ```python blocks of a markdown text, with their marker options."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start, lang = i, m.group(1)
        j = i + 1
        while j < len(lines) and lines[j].rstrip() != "```":
            j += 1
        if j == len(lines):
            raise AssertionError(f"unclosed code fence at line {start + 1}")
        if lang in ("bash", "python"):
            k = start - 1
            while k >= 0 and not lines[k].strip():
                k -= 1
            options = {}
            marker = MARK.fullmatch(lines[k].strip()) if k >= 0 else None
            if marker:
                for opt in marker.group(1).replace(",", " ").split():
                    key, _, value = opt.partition("=")
                    options[key] = value or True
            blocks.append(Block(lang, "\n".join(lines[start + 1:j]) + "\n", start + 1, options))
        i = j + 1
    return blocks


def parse_commands(block: Block) -> list[tuple[str, str]]:
    """``[(command, shown output)]`` of a bash block."""
    out, cmd, shown, cont = [], None, [], False
    for line in block.text.splitlines():
        if cont:
            cmd += " " + line.strip().rstrip("\\").strip()
            cont = line.rstrip().endswith("\\")
        elif line.startswith("$ "):
            if cmd is not None:
                out.append((cmd, "\n".join(shown)))
            cmd, shown = line[2:].rstrip().rstrip("\\").strip(), []
            cont = line.rstrip().endswith("\\")
        elif cmd is None:
            if line.strip() and not line.lstrip().startswith("#"):
                raise AssertionError(f"{block.where}: output before the first '$ ' command: "
                                     f"{line!r}")
        else:
            shown.append(line)
    if cmd is not None:
        out.append((cmd, "\n".join(shown)))
    return out


# ----------------------------------------------------------------------------- matching
def _squash(s: str) -> str:
    # the '*' marking a leaderboard column's best value moves when rows are added: ignored
    return " ".join(re.sub(r"(\d)\*", r"\1", s).split())


def output_matches(want: str, got: str, tol: float = TOLERANCE) -> bool:
    """``got`` is what ``want`` shows: ``...`` stands for any text, whitespace runs are equal,
    numbers with a decimal point may differ by ``tol``."""
    want, got = _squash(want), _squash(got)
    if want == got:
        return True
    pattern, numbers = [], []
    for k, part in enumerate(want.split("...")):
        if k:
            pattern.append(".*?")
        pos = 0
        for m in NUMBER.finditer(part):
            pattern.append(re.escape(part[pos:m.start()]))
            pattern.append(r"(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)")
            numbers.append(float(m.group()))
            pos = m.end()
        pattern.append(re.escape(part[pos:]))
    # a squashed "..." may have eaten the spaces around it
    rx = "".join(pattern).replace(r"\ .*?", r"\s?.*?").replace(r".*?\ ", r".*?\s?")
    m = re.fullmatch(rx, got, flags=re.S)
    return bool(m) and all(abs(float(g) - w) <= tol for g, w in zip(m.groups(), numbers))


class TolerantChecker(doctest.OutputChecker):
    def check_output(self, want, got, optionflags):
        return super().check_output(want, got, optionflags) or output_matches(want, got)


class AnyOutput(doctest.OutputChecker):
    def check_output(self, want, got, optionflags):
        return True


def drop_tf_noise(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not TF_NOISE.match(line))


# ----------------------------------------------------------------------------- running
class Runner:
    """Runs the blocks of a tutorial in ``workdir`` (the current directory)."""

    def __init__(self, workdir: Path, subprocess_zoo: bool = False):
        self.workdir = workdir
        self.subprocess_zoo = subprocess_zoo
        self.entry_point_checked = False
        self.globs: dict = {"__name__": "__tutorial__"}
        self.ran: list[str] = []

    def run(self, blocks: list[Block]) -> None:
        for block in blocks:
            if block.options.get("skip"):
                continue
            if block.lang == "bash":
                self.run_bash(block)
            else:
                self.run_python(block)

    def run_command(self, cmd: str) -> tuple[int, str]:
        argv = shlex.split(cmd)
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        if argv[0] == "zoo" and not self.subprocess_zoo and self.entry_point_checked:
            from zoo import cli
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
                try:
                    code = cli.main(argv[1:])
                except SystemExit as e:  # argparse
                    code = e.code if isinstance(e.code, int) else 2
            return code, buf.getvalue()
        if argv[0] == "zoo":
            self.entry_point_checked = True
            argv = [sys.executable, "-m", "zoo", *argv[1:]]
            res = subprocess.run(argv, cwd=self.workdir, env=env, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
        else:
            res = subprocess.run(cmd, shell=True, cwd=self.workdir, env=env, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
        return res.returncode, res.stdout

    def run_bash(self, block: Block) -> None:
        expect = int(block.options.get("exit", 0))
        commands = parse_commands(block)
        if not commands:
            raise AssertionError(f"{block.where}: a bash block without '$ ' commands")
        for cmd, shown in commands:
            code, got = self.run_command(cmd)
            got = drop_tf_noise(got)
            self.ran.append(cmd)
            if code != expect:
                raise AssertionError(f"{block.where}: `{cmd}` exited with {code}, expected "
                                     f"{expect}; output:\n{got[-3000:]}")
            if not block.options.get("nocheck") and not output_matches(shown, got):
                raise AssertionError(f"{block.where}: `{cmd}` printed\n{got}\n--- but the "
                                     f"tutorial shows\n{shown}")

    def run_python(self, block: Block) -> None:
        test = doctest.DocTestParser().get_doctest(block.text, self.globs, block.where,
                                                   str(DOC), block.line)
        test.globs = self.globs  # one Python session for the whole tutorial (not a copy)
        if not test.examples:
            raise AssertionError(f"{block.where}: a python block without '>>>' examples")
        flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
        checker = AnyOutput() if block.options.get("nocheck") else TolerantChecker()
        report = io.StringIO()
        runner = doctest.DocTestRunner(checker=checker, optionflags=flags)
        result = runner.run(test, out=report.write, clear_globs=False)
        self.ran.extend(ex.source.strip() for ex in test.examples)
        if result.failed:
            raise AssertionError(f"{block.where}: {result.failed} example(s) failed:\n"
                                 + report.getvalue()[-6000:])


# ----------------------------------------------------------------------------- tests
def test_output_matching_rules():
    assert output_matches("a  b\nc", "a b c")
    assert output_matches("micro-F1 0.6405", "micro-F1 0.6712")           # within tolerance
    assert not output_matches("micro-F1 0.6405", "micro-F1 0.7100")
    assert not output_matches("5 labels: alpha", "5 labels: Class1")
    assert not output_matches("3 labels", "4 labels")                       # integers exact
    assert output_matches("Epoch 1/20\n...\nfolder: my-yeast", "Epoch 1/20\nx\ny\nfolder: my-yeast")
    assert not output_matches("Epoch 1/20\n...\nfolder: my-yeast", "Epoch 1/20\nfolder: other")
    assert output_matches("", "") and not output_matches("", "something")
    assert output_matches("mAP 0.5115*  0.2405", "mAP 0.5115  0.2405*")


def test_harness_fails_on_a_wrong_doc(tmp_path, monkeypatch, mirror_env):
    """A wrong command, a wrong shown output, a failing python example: each fails the test."""
    monkeypatch.chdir(tmp_path)

    def run(doc):
        runner = Runner(tmp_path)
        runner.entry_point_checked = True  # in-process only: fast
        runner.run(parse_blocks(doc))

    run("```bash\n$ zoo list 'yeast/ml*'\nyeast/mlgcn  checkpoints\nyeast/mlp    checkpoints\n"
        "yeast/mlp-searched  checkpoints\n```\n")
    with pytest.raises(AssertionError, match="exited with 2"):
        run("```bash\n$ zoo list 'yeast/*'\n...\n$ zoo no-such-command\n```\n")
    with pytest.raises(AssertionError, match="but the tutorial shows"):
        run("```bash\n$ echo hi\n$ zoo list 'yeast/ml*'\nyeast/mlp    checkpoints\n```\n")
    with pytest.raises(AssertionError, match="1 example"):
        run("```python\n>>> 1 + 1\n3\n```\n")
    run("<!-- tutorial-test: skip -->\n```bash\n$ no-such-program\n```\n")
    run("<!-- tutorial-test: exit=2 -->\n```bash\n$ zoo info no/such\n"
        "zoo info: error: no model named 'no/such'...\n```\n")


@pytest.mark.slow
def test_tutorial(tmp_path, monkeypatch, mirror_env):
    monkeypatch.chdir(tmp_path)
    blocks = parse_blocks(DOC.read_text(encoding="utf-8"))
    runner = Runner(tmp_path, subprocess_zoo=os.environ.get("ZOO_TUTORIAL_SUBPROCESS") == "1")
    runner.run(blocks)
    ran = " ".join(runner.ran)
    # the three uses of the issue are all there
    for needle in ("zoo export-data yeast", "zoo finetune yeast/mlp", "zoo.finetune(", "zoo compare",
                   "--input-mismatch retrain", "--add-to", "--extra", "zoo plot"):
        assert needle in ran, needle

    import zoo
    from zoo.data import read_any
    new_labels = ["alpha", "beta", "gamma", "delta", "epsilon"]
    test = read_any(tmp_path / "test.csv")
    assert test.label_names == new_labels
    # the command-line and the Python fine-tunes: complete folders that load in two lines
    for folder in ("my-yeast", "my-yeast-py"):
        path = tmp_path / folder
        assert {"zoo.json", "metrics.json", "README.md", "model.weights.h5"} <= \
            {p.name for p in path.iterdir()}
        metrics = json.loads((path / "metrics.json").read_text())
        assert metrics["split"] == "test" and metrics["num_examples"] == len(test) == 917
        assert metrics["metrics"]["mean_average_precision"] > 0.6
        model = zoo.load(str(path))
        assert model.label_names == new_labels
        sets = model.predict_labels(test.x[:20])
        assert any(sets) and all(set(s) <= set(new_labels) for s in sets)
        card = json.loads((path / "zoo.json").read_text())
        assert card["finetune"]["base"] == "yeast/mlp"
        assert list(card["finetune"]["reinitialized"]) == ["logits"]
    # compare: the checkpoint's own saved scores reproduce its metrics.json (up to the float32
    # rounding of the scores on another CPU, see tests/test_pretrained.py)
    mine = zoo.compare(str(tmp_path / "yeast-mlp.npy"), "yeast", thresholds="yeast/mlp")
    stored = zoo.info("yeast/mlp")["metrics"]["metrics"]
    assert set(mine["metrics"]) == set(stored)
    for key, value in stored.items():
        assert mine["metrics"][key] == pytest.approx(value, abs=1e-4), key
    rows = json.loads((tmp_path / "my-results.json").read_text())["rows"]
    assert [(r["dataset"], r["name"]) for r in rows] == [("yeast", "random-forest")]
    for png in tmp_path.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(list(tmp_path.glob("*.png"))) >= 2


def test_export_data_subcommand(tmp_path, mirror_env, capsys):
    """`zoo export-data`: the file reads back as the benchmark split; bad --labels/--rename refused."""
    from zoo import cli
    from zoo.data import benchmarks, read_any
    out = tmp_path / "e.csv"
    assert cli.main(["export-data", "emotions", "--split", "test", "--out", str(out), "--labels",
                     "sad-lonely,happy-pleased", "--rename", "sad-lonely=sad"]) == 0
    assert "202 rows (72 features per row, 2 labels: sad, happy-pleased)" in capsys.readouterr().out
    got, want = read_any(out), benchmarks.load("emotions", "test")
    assert got.label_names == ["sad", "happy-pleased"]
    cols = [want.label_names.index("sad-lonely"), want.label_names.index("happy-pleased")]
    np.testing.assert_array_equal(got.y, want.labels_dense()[:, cols])
    np.testing.assert_array_equal(got.x, want.features_dense())
    assert got.feature_names == want.feature_names
    for args, message in [
            (["--labels", "sad-lonely,nope"], "unknown or repeated label(s) ['nope']"),
            (["--labels", "sad-lonely,sad-lonely"], "unknown or repeated label(s) ['sad-lonely']"),
            (["--labels", ","], "names no label"),
            (["--rename", "sad-lonely"], "OLD=NEW pairs"),
            (["--labels", "sad-lonely", "--rename", "quiet-still=q"], "not an exported label"),
            (["--rename", "sad-lonely=quiet-still"], "not distinct")]:
        assert cli.main(["export-data", "emotions", "--out", str(tmp_path / "x.csv"), *args]) == 2
        assert message in capsys.readouterr().err, args
    assert not (tmp_path / "x.csv").exists()
