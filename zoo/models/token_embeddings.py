"""Pretrained token embeddings for the text encoders' embedding tables.

Source: WordLlama (D. Miller, 2024, https://github.com/dleemiller/WordLlama): static 256-d
token embeddings distilled from the input embeddings of several large language models that
share the Llama-2 tokenizer ("l2_supercat"). The PyPI wheel ``wordllama`` ships the matrix
(``wordllama/weights/l2_supercat_256.safetensors``, 32000 x 256) and the Llama-2 tokenizer
(``wordllama/tokenizers/l2_supercat_tokenizer_config.json``).

The zoo keeps its own word vocabulary (a ``TextVectorization`` fitted on the training texts,
so the saved model still takes raw strings and never needs ``wordllama`` at load time) and
initialises each word's row as the MEAN of the WordLlama vectors of the word's Llama-2
sub-tokens (the word tokenized on its own, as a word that starts a text: ``"rates"`` ->
``["▁rates"]``, ``"bundesbank"`` -> ``["▁b", "undes", "bank"]``). Rows with no usable
sub-token (every piece is Llama's ``<unk>``) and the ``[UNK]`` row get random vectors of
the table's per-dimension spread (seeded); the padding row is zero. The table is then
trained with the rest of the model (it is an initialisation, not a frozen lookup).

``wordllama`` is an optional dependency (``pip install zoo[embeddings]``), needed only when
a model is BUILT with ``embeddings="wordllama-l2-256"`` (training, re-heading), never to
load or run a saved checkpoint.

Example (needs the ``wordllama`` package):
    >>> m = embedding_matrix(["", "[UNK]", "rates", "bank"], "wordllama-l2-256")
    >>> m.shape, float(abs(m[0]).sum())
    ((4, 256), 0.0)
"""
from __future__ import annotations

import os

import numpy as np

#: name -> (safetensors file, tensor key, tokenizer file), all inside the wordllama package
SOURCES = {
    "wordllama-l2-256": ("weights/l2_supercat_256.safetensors", "embedding.weight",
                         "tokenizers/l2_supercat_tokenizer_config.json"),
}


def embedding_dim(name: str) -> int:
    """Width of the named pretrained table.

    Example:
        >>> embedding_dim("wordllama-l2-256")
        256
    """
    _check_name(name)
    return int(name.rsplit("-", 1)[1])


def _check_name(name):
    if name not in SOURCES:
        raise ValueError(f"unknown pretrained embeddings {name!r}; known: {', '.join(SOURCES)}")


def _package_dir() -> str:
    try:
        import wordllama
    except ImportError as e:
        raise ImportError("pretrained token embeddings 'wordllama-*' need the optional package "
                          "wordllama: pip install 'zoo[embeddings]' (or pip install wordllama)"
                          ) from e
    return os.path.dirname(wordllama.__file__)


def load_table(name: str):
    """``(matrix (32000, d) float32, tokenizers.Tokenizer)`` of the named source."""
    _check_name(name)
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer
    root = _package_dir()
    weights, key, tok = SOURCES[name]
    path = os.path.join(root, weights)
    tensors = load_file(path)
    if key not in tensors:
        raise ValueError(f"{path}: no tensor {key!r} (has {sorted(tensors)})")
    return tensors[key].astype(np.float32), Tokenizer.from_file(os.path.join(root, tok))


def subtoken_mean(words, table: np.ndarray, tokenizer, unk_id: int = 0):
    """``(vectors (n, d), found (n,) bool)``: each word's mean sub-token vector; ``found`` is
    False where the tokenizer gave nothing but ``unk_id`` (the row is then zero).

    Example:
        >>> class Tok:                      # a stand-in tokenizer: one id per character
        ...     def encode_batch(self, ws, add_special_tokens=False):
        ...         return [type("E", (), {"ids": [ord(c) - 96 for c in w]}) for w in ws]
        >>> t = np.arange(10, dtype=np.float32)[:, None] * np.ones((1, 2), np.float32)
        >>> v, f = subtoken_mean(["ab", "c"], t, Tok())
        >>> v.tolist(), f.tolist()
        ([[1.5, 1.5], [3.0, 3.0]], [True, True])
    """
    words = list(words)
    out = np.zeros((len(words), table.shape[1]), np.float32)
    found = np.zeros(len(words), bool)
    if not words:
        return out, found
    for i, enc in enumerate(tokenizer.encode_batch(words, add_special_tokens=False)):
        ids = [j for j in enc.ids if j != unk_id and 0 <= j < len(table)]
        if ids:
            out[i] = table[ids].mean(axis=0)
            found[i] = True
    return out, found


def embedding_matrix(vocabulary, name: str, seed: int = 0, table=None, tokenizer=None):
    """The initial embedding table for a ``TextVectorization`` vocabulary.

    ``vocabulary``: the layer's full vocabulary, ``["", "[UNK]", word, ...]`` (row i is token
    id i). Row 0 (padding) is zero; row 1 (``[UNK]``) and words without a usable sub-token get
    Gaussian vectors with the pretrained table's per-dimension mean and standard deviation
    (``numpy.random.default_rng(seed)``); every other word gets its sub-token mean
    (:func:`subtoken_mean`). ``table``/``tokenizer`` override the named source (tests).
    """
    vocabulary = [str(w) for w in vocabulary]
    if vocabulary[:2] != ["", "[UNK]"]:
        raise ValueError(f"expected a TextVectorization vocabulary starting ['', '[UNK]'], got "
                         f"{vocabulary[:2]}")
    if table is None or tokenizer is None:
        table, tokenizer = load_table(name)
    vectors, found = subtoken_mean(vocabulary[2:], table, tokenizer)
    rng = np.random.default_rng(seed)
    mu, sd = table.mean(axis=0), table.std(axis=0)
    out = np.zeros((len(vocabulary), table.shape[1]), np.float32)
    out[2:] = vectors
    missing = np.concatenate([[False, True], ~found])
    out[missing] = mu + sd * rng.standard_normal((int(missing.sum()), table.shape[1]))
    return out


def initialise(layer, vocabulary, name: str | None, seed: int = 0) -> None:
    """Overwrite a built ``keras.layers.Embedding``'s table with :func:`embedding_matrix`
    (``name=None``: leave the random init)."""
    if not name:
        return
    m = embedding_matrix(vocabulary, name, seed=seed)
    if tuple(layer.embeddings.shape) != m.shape:
        raise ValueError(f"embedding layer {layer.name!r} has shape {tuple(layer.embeddings.shape)}"
                         f"; the {name!r} table for this vocabulary is {m.shape} (set "
                         f"embedding_dim={m.shape[1]})")
    layer.embeddings.assign(m)
