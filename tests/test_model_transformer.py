"""Transformer encoder classifier (Vaswani et al. 2017; BERT, Devlin et al. 2019): packing,
masked pooling, padding invariance, train-only WordPiece vocabulary, checkpoints with raw
strings, and keras-hub presets (offline, a tiny BERT saved to tmp_path)."""
import keras
import numpy as np
import pytest

import zoo
from zoo import checkpoint
from zoo.data.dataset import MultiLabelDataset
from zoo.models.transformer import (PaddingMask, SequencePooling, SpecialTokenPacker,
                                    from_preset, transformer)
from zoo.train import build_model

# A hand-written WordPiece vocabulary ([PAD] first, as the model requires).
VOCAB = ["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]", "the", "cat", "dog", "sat", "on",
         "mat", "ran", "a", "##s", "good", "bad", "day"]
TINY = dict(num_layers=2, num_heads=2, hidden_dim=16, intermediate_dim=32, dropout=0.0)


def _strings(*texts):
    return np.array(texts, dtype=object)


def _card(labels, arch="transformer"):
    return checkpoint.new_card(
        name=f"toy/{arch}", architecture=arch, dataset="toy", kind="text",
        label_names=list(labels), input_spec={"kind": "text"}, architecture_options={},
        thresholds=zoo.thresholds.GlobalThreshold(0.5).to_dict(), recipe={},
        training={"seed": 0}, paper="Vaswani et al. 2017; Devlin et al. 2019")


# --------------------------------------------------------------------------- layers
@pytest.mark.multibackend
def test_special_token_packer_matches_a_loop():
    rng = np.random.default_rng(0)
    lengths = np.array([0, 1, 3, 5, 5])
    ids = np.zeros((5, 5), dtype="int32")
    for r, n in enumerate(lengths):
        ids[r, :n] = rng.integers(5, 20, size=n)
    expected = np.zeros((5, 7), dtype="int32")
    for r, n in enumerate(lengths):   # reference: [CLS]=1, tokens, [SEP]=2, then [PAD]=0
        row = [1] + list(ids[r, :n]) + [2]
        expected[r, :len(row)] = row
    got = np.asarray(SpecialTokenPacker(start_id=1, end_id=2, pad_id=0)(ids))
    np.testing.assert_array_equal(got, expected)


@pytest.mark.multibackend
def test_sequence_pooling_mean_ignores_masked_positions():
    rng = np.random.default_rng(1)
    h = rng.normal(size=(3, 4, 5)).astype("float32")
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]], dtype=bool)
    expected = np.stack([h[i][mask[i]].mean(axis=0) for i in range(3)])
    got = np.asarray(SequencePooling("mean")(h, padding_mask=mask))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(SequencePooling("cls")(h)), h[:, 0])
    with pytest.raises(ValueError, match="pooling"):
        SequencePooling("max")


# --------------------------------------------------------------------------- mechanism
def _short_and_long(pooling, normalize_first):
    """The same network at sequence lengths 8 and 16 (position table shared row by row)."""
    keras.utils.set_random_seed(3)
    short = transformer(3, vocabulary=VOCAB, sequence_length=8, pooling=pooling,
                        normalize_first=normalize_first, **TINY)
    long = transformer(3, vocabulary=VOCAB, sequence_length=16, pooling=pooling,
                       normalize_first=normalize_first, **TINY)
    for ws, wl in zip(short.weights, long.weights):
        v = np.asarray(ws)
        if v.shape != tuple(wl.shape):            # the position embedding table
            full = np.asarray(wl).copy()
            full[:v.shape[0]] = v
            v = full
        wl.assign(v)
    return short, long


@pytest.mark.parametrize("pooling,normalize_first", [("cls", False), ("mean", True)])
def test_padding_does_not_change_the_output(pooling, normalize_first):
    short, long = _short_and_long(pooling, normalize_first)
    texts = _strings("the cat sat", "a dog ran on the mat", "good")   # <= 6 pieces each
    # 8 vs 16 positions: the long model sees 8 more [PAD] positions per text.
    np.testing.assert_allclose(np.asarray(long(texts)), np.asarray(short(texts)),
                               rtol=1e-4, atol=1e-5)


def test_without_the_mask_padding_would_leak():
    """Control: the same encoder called without padding_mask does change the [CLS] state,
    so the test above would catch a mask that is dropped."""
    _, long = _short_and_long("cls", False)
    texts = _strings("the cat sat")
    ids = long.get_layer("special_tokens")(long.get_layer("wordpiece")(texts))
    x = long.get_layer("embeddings_layer_norm")(long.get_layer("embeddings")(ids))
    enc = long.get_layer("encoder_0")
    masked = np.asarray(enc(x, padding_mask=PaddingMask(0)(ids)))[:, 0]
    unmasked = np.asarray(enc(x))[:, 0]
    assert np.abs(masked - unmasked).max() > 1e-3


def test_tokens_are_packed_bert_style():
    m = transformer(2, vocabulary=VOCAB, sequence_length=8, **TINY)
    ids = np.asarray(m.get_layer("special_tokens")(m.get_layer("wordpiece")(
        _strings("The cats sat", "the the the the the the the the"))))
    cls, sep = VOCAB.index("[CLS]"), VOCAB.index("[SEP]")
    t = VOCAB.index
    np.testing.assert_array_equal(ids[0], [cls, t("the"), t("cat"), t("##s"), t("sat"), sep, 0, 0])
    # truncated to 6 pieces so that [CLS] and [SEP] still fit
    np.testing.assert_array_equal(ids[1], [cls] + [t("the")] * 6 + [sep])


def test_vocabulary_comes_from_the_training_texts_only():
    train = MultiLabelDataset(
        x=["apple banana cherry", "banana cherry apple", "cherry apple banana"] * 4,
        y=np.tile(np.array([[1, 0], [0, 1], [1, 1]], dtype="int8"), (4, 1)),
        label_names=["a", "b"], kind="text", name="toy", split="train")
    model, _ = build_model("transformer", train, {"vocabulary_size": 60, "sequence_length": 8,
                                                  **TINY})
    vocab = model.get_layer("wordpiece").get_vocabulary()
    assert {"apple", "banana", "cherry"} <= set(vocab)
    assert "kiwi" not in vocab and "grape" not in vocab
    # a word whose letters never occur in train is out of vocabulary
    ids = np.asarray(model.get_layer("wordpiece")(_strings("xyz")))
    assert ids[0, 0] == vocab.index("[UNK]")


def test_bad_vocabulary_and_options_are_named():
    with pytest.raises(ValueError, match=r"\[CLS\]"):
        transformer(2, vocabulary=["[PAD]", "[UNK]", "a"], sequence_length=8, **TINY)
    with pytest.raises(ValueError, match="train_inputs"):
        transformer(2, sequence_length=8, **TINY)
    with pytest.raises(ValueError, match="pooling"):
        transformer(2, vocabulary=VOCAB, pooling="max", **TINY)


# --------------------------------------------------------------------------- checkpoints
def test_checkpoint_round_trip_with_raw_strings(tmp_path):
    texts = ["the cat sat on the mat", "a dog ran", "good day", "bad dog"] * 3
    keras.utils.set_random_seed(0)
    model = transformer(3, train_inputs=texts, vocabulary_size=40, sequence_length=10, **TINY)
    vocab = model.get_layer("wordpiece").get_vocabulary()
    folder = checkpoint.write(tmp_path / "toy-transformer", model, _card("abc"))
    saved = (folder / "assets").rglob("vocabulary.txt")
    assert [p.read_text().splitlines() for p in saved] == [vocab]
    loaded, _ = checkpoint.read(folder)
    assert loaded.get_layer("wordpiece").get_vocabulary() == vocab
    x = _strings("the cat ran on a mat", "good", "an unseen zebra")
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), rtol=1e-5, atol=1e-6)
    probs = zoo.load(folder).predict_proba(list(x))
    np.testing.assert_allclose(probs, 1 / (1 + np.exp(-np.asarray(model(x)))), rtol=1e-5,
                               atol=1e-6)


# --------------------------------------------------------------------------- presets
@pytest.fixture(scope="module")
def tiny_preset(tmp_path_factory):
    import keras_hub
    keras.utils.set_random_seed(0)
    folder = tmp_path_factory.mktemp("tiny_bert")
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=len(VOCAB), num_layers=1, num_heads=2, hidden_dim=16,
        intermediate_dim=32, max_sequence_length=16)
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=VOCAB, lowercase=True)
    backbone.save_to_preset(str(folder))
    tokenizer.save_to_preset(str(folder))
    return folder, backbone


def test_from_preset_runs_raw_strings_and_keeps_the_backbone(tiny_preset, tmp_path):
    folder, backbone = tiny_preset
    model = from_preset(str(folder), num_labels=5, sequence_length=12, dropout=0.0)
    x = _strings("the cat sat", "a bad day on the mat")
    logits = np.asarray(model(x))
    assert logits.shape == (2, 5) and np.isfinite(logits).all()
    # the pretrained weights are the preset's, the head is new
    got = {w.path: np.asarray(w) for w in model.weights}
    for w in backbone.weights:
        match = [v for k, v in got.items() if k.endswith(w.path)]
        assert match and np.array_equal(match[0], np.asarray(w)), w.path
    # the backbone is fed [CLS] ... [SEP] with the preset tokenizer's ids
    ids = np.asarray(model.get_layer("special_tokens")(
        model.get_layer("bert_tokenizer")(_strings("the cat sat"))))
    t = VOCAB.index
    np.testing.assert_array_equal(ids[0, :5], [t("[CLS]"), t("the"), t("cat"), t("sat"),
                                               t("[SEP]")])
    # reference: the keras-hub backbone on the same ids gives the same pooled output
    pooled = backbone({"token_ids": ids, "padding_mask": ids != 0,
                       "segment_ids": np.zeros_like(ids)})["pooled_output"]
    head = model.get_layer("logits")
    np.testing.assert_allclose(np.asarray(head(pooled)), logits[:1], rtol=1e-5, atol=1e-5)

    ck = checkpoint.write(tmp_path / "toy-bert", model, _card("abcde"))
    loaded, _ = checkpoint.read(ck)
    np.testing.assert_allclose(np.asarray(loaded(x)), logits, rtol=1e-5, atol=1e-6)


def test_registered_builder_accepts_a_preset(tiny_preset):
    folder, _ = tiny_preset
    model = zoo.models.get_architecture("transformer").build(
        num_labels=2, preset=str(folder), sequence_length=8, pooling="mean")
    assert np.asarray(model(_strings("good day"))).shape == (1, 2)
    with pytest.raises(ValueError, match="max_sequence_length"):
        from_preset(str(folder), num_labels=2, sequence_length=64)
