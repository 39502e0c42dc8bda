"""Import the Keras backend without TensorFlow's start-up log lines (used by the ``zoo`` command).

TensorFlow's shared libraries log from static initializers, before TensorFlow reads
``TF_CPP_MIN_LOG_LEVEL`` (``port.cc`` oneDNN notice, ``cudart_stub.cc`` "Could not find cuda
drivers", ``cpu_feature_guard.cc``, each announced by absl's "All log messages before
absl::InitializeLog() ..." line). Those are written to file descriptor 2 directly, so
:func:`import_backend` points descriptor 2 at a temporary file during the import and copies
back every line that is not such a notice. The device list is built inside the same window,
so the ``cuda_platform.cc: failed call to cuInit`` error that a machine without a GPU logs
then is dropped too, whatever ``TF_CPP_MIN_LOG_LEVEL`` says (it defaults to ``3`` for the
command). ``ZOO_TF_LOGS=1`` keeps every line (for debugging a GPU set-up).
"""
from __future__ import annotations

import logging
import os
import re
import sys
import tempfile

_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IWE]\d{4} [\d:. ]+\s+\d+ [\w.]+:\d+\] .*"
    r"|To enable the following instructions: .* rebuild TensorFlow with the appropriate "
    r"compiler flags\.)$")


def is_noise(line: str) -> bool:
    """True for one of TensorFlow/absl's start-up log lines."""
    return bool(_NOISE.match(line.rstrip("\r\n")))


def set_env_defaults() -> None:
    """Log-level defaults for TensorFlow and absl, set before TensorFlow is imported."""
    if os.environ.get("ZOO_TF_LOGS") == "1":
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")


def import_backend() -> None:
    """Import Keras (and its backend) and register the zoo's Keras objects, dropping the
    backend's start-up log lines from standard error (other output is kept, in order)."""
    import zoo
    set_env_defaults()
    if "keras" in sys.modules or os.environ.get("ZOO_TF_LOGS") == "1":
        zoo.register_keras_objects()
        return
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # stderr replaced (pytest capture, IDEs)
        zoo.register_keras_objects()
        _quiet_python_loggers()
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), fd)
        try:
            zoo.register_keras_objects()
            _init_devices()
        finally:
            sys.stderr.flush()
            os.dup2(saved, fd)
            os.close(saved)
            tmp.seek(0)
            captured = tmp.read().decode("utf-8", errors="replace")
    for line in captured.splitlines(keepends=True):
        if not is_noise(line):
            sys.stderr.write(line)
    sys.stderr.flush()
    _quiet_python_loggers()


def _init_devices() -> None:
    """Build TensorFlow's device list now, while descriptor 2 is captured: on a machine
    without a GPU that is when ``failed call to cuInit`` is logged (at ERROR level, so
    ``TF_CPP_MIN_LOG_LEVEL=2`` would still print it later)."""
    import keras
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        tf.config.list_physical_devices()


def _quiet_python_loggers() -> None:
    logging.getLogger("absl").setLevel(logging.ERROR)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
