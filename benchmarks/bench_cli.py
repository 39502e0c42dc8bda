"""Start-up time of the ``zoo`` command: wall time of fresh processes, and whether each one
imported TensorFlow.

    .venv/bin/python benchmarks/bench_cli.py [--runs 5] [--no-doc]

Each command runs ``--runs`` times as ``python -m zoo ...`` in a new process (the same as the
``zoo`` console script); the median and the slowest wall time are recorded, plus the stderr
line count of the last run (TensorFlow start-up log lines would show here), and whether the
process imported ``tensorflow`` (checked in a separate run of the same command). ``import
zoo; zoo.list_models()`` is measured the same way.

Results go to ``benchmarks/results/cli.json`` (atomically) and, unless ``--no-doc``, into the
table between the ``bench:cli`` markers of ``docs/benchmarks.md``. The target of issue 11/14
is under 1 s for ``--help``, ``list`` and ``info``. Timings on a shared 2-core machine are
noisy; the JSON records the load average. Never assert on these numbers in tests.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench:cli start -->", "<!-- bench:cli end -->"

COMMANDS = [
    ("zoo --version", ["-m", "zoo", "--version"]),
    ("zoo --help", ["-m", "zoo", "--help"]),
    ("zoo list", ["-m", "zoo", "list"]),
    ("zoo info yeast/mlp", ["-m", "zoo", "info", "yeast/mlp"]),
    ("import zoo; zoo.list_models()",
     ["-c", "import sys, zoo; zoo.list_models(); "
            "sys.stderr.write('TF_IMPORTED=%s' % ('tensorflow' in sys.modules))"]),
    ("zoo predict yeast/mlp (3 rows)", ["-m", "zoo", "predict", "yeast/mlp", "{rows}"]),
]


def _time(args, env) -> tuple[float, str]:
    t = time.perf_counter()
    res = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=600)
    dt = time.perf_counter() - t
    if res.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {res.stderr[-500:]}")
    return dt, res.stderr


def _tf_check_code(args):
    """The same command with a check that TensorFlow was not imported (for zoo commands)."""
    if args[:2] != ["-m", "zoo"]:
        return None
    return ["-c", "import runpy, sys; sys.argv = ['zoo'] + %r\n"
                  "try:\n    runpy.run_module('zoo', run_name='__main__')\n"
                  "except SystemExit:\n    pass\n"
                  "sys.stderr.write('TF_IMPORTED=%%s' %% ('tensorflow' in sys.modules))"
            % (args[2:],)]


def run(runs: int) -> dict:
    import tempfile

    import numpy as np
    tmp = Path(tempfile.mkdtemp())
    rows = tmp / "rows.csv"
    np.savetxt(rows, np.random.default_rng(0).normal(size=(3, 103)), delimiter=",")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)   # the defaults a user has
    out = []
    for label, args in COMMANDS:
        args = [a.replace("{rows}", str(rows)) for a in args]
        times, stderr = [], ""
        for _ in range(runs if "predict" not in label else max(1, runs // 2)):
            dt, stderr = _time(args, env)
            times.append(dt)
        check = _tf_check_code(args)
        tf_err = _time(check, env)[1] if check else stderr
        out.append({"command": label, "runs": len(times),
                    "median_s": round(statistics.median(times), 3),
                    "max_s": round(max(times), 3),
                    "imports_tensorflow": "TF_IMPORTED=True" in tf_err,
                    "stderr_lines": len([ln for ln in stderr.splitlines()
                                         if not ln.startswith("TF_IMPORTED=")])})
    return {"date": datetime.date.today().isoformat(),
            "machine": {"cpus": os.cpu_count(), "loadavg_1min": round(os.getloadavg()[0], 2),
                        "python": platform.python_version()},
            "results": out}


def table(res: dict) -> str:
    lines = ["| command | median (s) | slowest (s) | imports TensorFlow | stderr lines |",
             "|---|---|---|---|---|"]
    for r in res["results"]:
        lines.append(f"| `{r['command']}` | {r['median_s']:.2f} | {r['max_s']:.2f} | "
                     f"{'yes' if r['imports_tensorflow'] else 'no'} | {r['stderr_lines']} |")
    lines.append("")
    lines.append(f"{res['results'][0]['runs']} fresh processes per command, {res['machine']['cpus']}"
                 f" CPUs, load average {res['machine']['loadavg_1min']} (shared machine: noisy),"
                 f" {res['date']}.")
    return "\n".join(lines)


def write_doc(text: str) -> None:
    from zoo._io import atomic_write_text
    doc = DOC.read_text(encoding="utf-8")
    head, sep, rest = doc.partition(START)
    if not sep:
        raise SystemExit(f"{DOC}: no {START} marker")
    _, sep, tail = rest.partition(END)
    atomic_write_text(DOC, f"{head}{START}\n{text}\n{END}{tail}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "cli.json"))
    p.add_argument("--no-doc", action="store_true")
    a = p.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from zoo._io import atomic_write_text
    res = run(a.runs)
    atomic_write_text(a.out, json.dumps(res, indent=1) + "\n")
    text = table(res)
    print(text)
    if not a.no_doc:
        write_doc(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
