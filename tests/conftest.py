"""Shared fixtures. The benchmark files come from the dataset mirror ($ZOO_DATA_DIR)."""
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def data_dir() -> Path:
    d = os.environ.get("ZOO_DATA_DIR") or str(Path(__file__).resolve().parents[2] / "shared" / "datasets")
    p = Path(d)
    if not p.is_dir():
        raise RuntimeError(f"dataset mirror not found at {p}; set ZOO_DATA_DIR")
    return p


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The dataset mirror directory (the layout of ../shared/datasets)."""
    return data_dir()


@pytest.fixture(scope="module")
def mirror_env(mirror):
    """Point $ZOO_DATA_DIR (read by zoo.data.benchmarks.load) at the mirror if it is unset."""
    old = os.environ.get("ZOO_DATA_DIR")
    os.environ["ZOO_DATA_DIR"] = old or str(mirror)
    yield mirror
    if old is None:
        del os.environ["ZOO_DATA_DIR"]


@pytest.fixture(scope="session")
def emotions_train(mirror):
    """(x float32 (391, 72) standardized, y float32 (391, 6)) from MULAN emotions train.

    TEMPORARY minimal parser (dense numeric ARFF, 6 trailing labels); it is replaced by
    zoo.data.load("emotions", "train") once the readers land.
    """
    rows = []
    in_data = False
    for line in (mirror / "mulan" / "emotions" / "emotions-train.arff").read_text().splitlines():
        s = line.strip()
        if not s or s.startswith("%"):
            continue
        if in_data:
            rows.append([float(v) for v in s.split(",")])
        elif s.lower().startswith("@data"):
            in_data = True
    a = np.asarray(rows, dtype=np.float32)
    x, y = a[:, :-6], a[:, -6:]
    x = (x - x.mean(0)) / (x.std(0) + 1e-6)
    return x, y
