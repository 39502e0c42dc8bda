"""Wide & Deep text model (zoo.models.wide_deep) and pretrained token embeddings
(zoo.models.token_embeddings): the defining mechanisms on tiny data.

* the wide features are exactly scikit-learn's TF-IDF (uni+bigrams, min_df 2, sublinear tf,
  smoothed idf, L2 rows) of the model's own tokens;
* the wide logits are a linear function of that vector and the model's logits are wide + deep;
* one joint training step moves both parts;
* the fitted bigrams/idf survive keras.saving and re-heading (they are weights);
* a vocabulary word gets the mean of its WordLlama sub-token rows, [UNK] a seeded random row.
"""
import keras
import numpy as np
import pytest

from zoo.models.token_embeddings import embedding_matrix, subtoken_mean
from zoo.models.wide_deep import FirstTokens, NgramTfIdf, bigram_keys, fit_tfidf, wide_deep

TEXTS = ["grain wheat exports rise", "wheat exports fall sharply", "oil prices rise again",
         "crude oil prices fall", "grain and wheat exports", "oil and gas prices rise",
         "wheat prices rise", "crude oil exports fall"]
SMALL = dict(sequence_length=6, wide_length=8, embedding_dim=4, num_filters=3,
             filter_widths=(2, 3), max_bigrams=50, dropout=0.0)


def _model(num_labels=3, **kw):
    keras.utils.set_random_seed(0)
    return wide_deep(num_labels=num_labels, train_inputs=TEXTS, **{**SMALL, **kw})


def _sub(model, layer):
    return keras.Model(model.inputs, model.get_layer(layer).output)


def _x(texts):
    return np.asarray(texts, dtype=object)


def test_wide_features_equal_sklearn_tfidf_of_the_same_tokens():
    sk = pytest.importorskip("sklearn.feature_extraction.text")
    model = _model()
    vocab = model.get_layer("text_vectorizer").get_vocabulary()
    ids = np.asarray(model.get_layer("text_vectorizer")(_x(TEXTS)))
    docs = [[vocab[i] for i in row if i > 1] for row in ids]
    ref = sk.TfidfVectorizer(analyzer=lambda d: d, min_df=2, sublinear_tf=True, smooth_idf=True,
                             norm="l2")
    # the same analyzer as ours: the token list plus its adjacent pairs
    grams = [d + [f"{a} {b}" for a, b in zip(d, d[1:])] for d in docs]
    want = ref.fit_transform(grams).toarray()
    got = np.asarray(_sub(model, "ngram_tfidf")(_x(TEXTS)))
    keys = np.asarray(model.get_layer("ngram_tfidf").keys)
    V = len(vocab)
    names = list(vocab) + [f"{vocab[k // V]} {vocab[k % V]}" if k < V * V else None for k in keys]
    cols = {n: j for j, n in enumerate(names) if n is not None}
    assert set(ref.vocabulary_) <= set(cols)
    for gram, j_ref in ref.vocabulary_.items():
        np.testing.assert_allclose(got[:, cols[gram]], want[:, j_ref], atol=1e-6, err_msg=gram)
    # nothing else is non-zero (rare grams and padding carry no weight)
    kept = [cols[g] for g in ref.vocabulary_]
    rest = np.delete(got, kept, axis=1)
    assert np.abs(rest).max() == 0.0


def test_wide_logits_are_linear_in_tfidf_and_logits_are_wide_plus_deep():
    model = _model()
    x = _x(["wheat exports rise again", "oil prices fall", "unseen words only"])
    dense = model.get_layer("wide_logits")
    dense.kernel.assign(np.random.default_rng(1).normal(size=dense.kernel.shape))
    dense.bias.assign(np.arange(3, dtype="float32"))
    v = np.asarray(_sub(model, "ngram_tfidf")(x))
    wide = np.asarray(_sub(model, "wide_logits")(x))
    np.testing.assert_allclose(wide, v @ np.asarray(dense.kernel) + np.arange(3), atol=1e-5)
    deep = np.asarray(_sub(model, "deep_logits")(x))
    np.testing.assert_allclose(np.asarray(model(x)), wide + deep, atol=1e-5)
    assert np.allclose(v[2], 0.0)  # no known gram: the wide part contributes only its bias


def test_one_joint_training_step_updates_wide_and_deep():
    model = _model(num_labels=2)
    y = np.array([[1, 0], [1, 0], [0, 1], [0, 1], [1, 0], [0, 1], [1, 0], [0, 1]], "float32")
    names = ["wide_logits", "deep_logits", "conv_2", "embedding"]
    before = {n: [np.array(w) for w in model.get_layer(n).weights] for n in names}
    tfidf_before = [np.array(w) for w in model.get_layer("ngram_tfidf").weights]
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True))
    model.fit(_x(TEXTS), y, batch_size=8, epochs=1, verbose=0)
    for n in names:
        moved = [not np.allclose(a, np.array(w)) for a, w in zip(before[n], model.get_layer(n).weights)]
        assert any(moved), f"{n} did not move"
    for a, w in zip(tfidf_before, model.get_layer("ngram_tfidf").weights):
        np.testing.assert_array_equal(a, np.array(w))  # keys and idf are fitted, not trained


def test_fit_tfidf_keeps_most_frequent_bigrams_and_rejects_large_vocabularies():
    ids = np.array([[2, 3, 4, 0], [2, 3, 4, 5], [4, 5, 2, 3], [5, 1, 5, 0]])
    assert bigram_keys(ids[3:], 10).tolist() == [[-1, -1, -1]]  # pairs with [UNK] or padding
    keys, idf = fit_tfidf(ids, 10, max_bigrams=1)
    assert keys.tolist() == [23]                  # (2, 3): df 3 beats (3, 4) and (4, 5): df 2
    keys, idf = fit_tfidf(ids, 10, max_bigrams=4)
    assert keys.tolist() == [23, 34, 45, 2**31 - 1]
    assert idf[10 + 3] == 0 and idf[0] == idf[1] == 0 and idf[6] == 0
    with pytest.raises(ValueError, match="too large"):
        fit_tfidf(ids, 50000, 2)


def test_saving_round_trip_and_rebuild_from_vocabulary(tmp_path):
    model = _model()
    x = _x(["wheat exports rise again", "crude oil prices"])
    path = tmp_path / "wd.keras"
    model.save(path)
    back = keras.saving.load_model(path)
    np.testing.assert_allclose(np.asarray(back(x)), np.asarray(model(x)), atol=1e-6)
    np.testing.assert_array_equal(np.asarray(back.get_layer("ngram_tfidf").keys),
                                  np.asarray(model.get_layer("ngram_tfidf").keys))
    # the kind restores only the vocabulary; bigrams and idf come back as copied weights
    vocab = model.get_layer("text_vectorizer").get_vocabulary()[2:]
    rebuilt = wide_deep(num_labels=3, vocabulary=vocab, **SMALL)
    assert np.abs(np.asarray(_sub(rebuilt, "ngram_tfidf")(x))).max() == 0.0
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_allclose(np.asarray(rebuilt(x)), np.asarray(model(x)), atol=1e-6)
    for layer in (NgramTfIdf(7, 3, name="t"), FirstTokens(4, name="f")):
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()


def test_wide_deep_checks_lengths():
    with pytest.raises(ValueError, match="wide_length"):
        wide_deep(num_labels=2, train_inputs=TEXTS, sequence_length=10, wide_length=8)


class _CharTokenizer:
    """Stand-in for tokenizers.Tokenizer: one id per letter (a=1 ...), '?' -> 0 (<unk>)."""

    def encode_batch(self, words, add_special_tokens=False):
        return [type("E", (), {"ids": [0 if c == "?" else ord(c) - 96 for c in w]})
                for w in words]


def test_embedding_matrix_rows_are_subtoken_means_unknown_rows_seeded():
    table = np.random.default_rng(0).normal(size=(30, 5)).astype("float32")
    vocab = ["", "[UNK]", "ab", "c", "??"]
    m = embedding_matrix(vocab, "wordllama-l2-256", seed=3, table=table,
                         tokenizer=_CharTokenizer())
    np.testing.assert_array_equal(m[0], 0.0)
    np.testing.assert_allclose(m[2], table[[1, 2]].mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(m[3], table[3], rtol=1e-6)
    again = embedding_matrix(vocab, "wordllama-l2-256", seed=3, table=table,
                             tokenizer=_CharTokenizer())
    np.testing.assert_array_equal(m, again)        # [UNK] and "??" rows: seeded, reproducible
    assert not np.allclose(m[1], m[4]) and np.abs(m[4]).sum() > 0
    vec, found = subtoken_mean(["??"], table, _CharTokenizer())
    assert found.tolist() == [False] and np.abs(vec).sum() == 0
    with pytest.raises(ValueError, match="starting"):
        embedding_matrix(["a"], "wordllama-l2-256", table=table, tokenizer=_CharTokenizer())
    with pytest.raises(ValueError, match="unknown pretrained"):
        embedding_matrix(vocab, "glove-300")


def test_wordllama_rows_initialise_the_wide_deep_embedding():
    pytest.importorskip("wordllama")
    from zoo.models.token_embeddings import load_table
    table, tok = load_table("wordllama-l2-256")
    model = _model(embedding_dim=256, embeddings="wordllama-l2-256")
    vocab = model.get_layer("text_vectorizer").get_vocabulary()
    emb = np.asarray(model.get_layer("embedding").embeddings)
    (piece,) = tok.encode("oil", add_special_tokens=False).ids      # one Llama token: "▁oil"
    np.testing.assert_allclose(emb[vocab.index("oil")], table[piece], rtol=1e-6)
    pieces = tok.encode("wheat", add_special_tokens=False).ids      # "▁whe" + "at"
    assert len(pieces) == 2
    np.testing.assert_allclose(emb[vocab.index("wheat")], table[pieces].mean(axis=0), rtol=1e-5)
    np.testing.assert_array_equal(emb[0], 0.0)
    with pytest.raises(ValueError, match="embedding_dim=256"):
        _model(embedding_dim=8, embeddings="wordllama-l2-256")


def test_wordllama_init_is_available_to_kimcnn_and_xmlcnn():
    pytest.importorskip("wordllama")
    from zoo.models.kimcnn import kimcnn
    from zoo.models.token_embeddings import load_table
    from zoo.models.xmlcnn import xmlcnn
    table, tok = load_table("wordllama-l2-256")
    (piece,) = tok.encode("oil", add_special_tokens=False).ids
    for m in (kimcnn(num_labels=2, train_inputs=TEXTS, sequence_length=6, embedding_dim=256,
                     num_filters=2, embeddings="wordllama-l2-256"),
              xmlcnn(num_labels=2, train_inputs=TEXTS, sequence_length=10, embedding_dim=256,
                     num_filters=2, pool_chunks=2, bottleneck_units=4,
                     embeddings="wordllama-l2-256")):
        vocab = m.get_layer("text_vectorizer").get_vocabulary()
        emb = np.asarray(m.get_layer("embedding").embeddings)
        np.testing.assert_allclose(emb[vocab.index("oil")], table[piece], rtol=1e-6)
