"""SGM (Yang et al., COLING 2018): the label-sequence decoder's mechanisms against a numpy
reference decoder (attention LSTM, global embedding, emitted-label mask, <eos>), the
teacher-forced loss, the logits mapping, and a checkpoint round trip with raw strings."""
import keras
import numpy as np
import pytest

import zoo
from zoo import checkpoint
from zoo.models.sgm import (NOT_EMITTED_LOGIT, SGM, SGMDecoder, emitted_logits,
                            label_frequency_rank, sgm)


def _np(t):
    return np.asarray(keras.ops.convert_to_numpy(t))


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _softmax(z):
    z = z - z.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


def _decoder(L=6, units=8, E=4, d=6, S=5, max_steps=None, rank=None, seed=0, **kw):
    keras.utils.set_random_seed(seed)
    dec = SGMDecoder(L, units, label_embedding_dim=E, max_steps=max_steps or L, label_rank=rank, **kw)
    dec.build([(None, S, d), (None, S), (None, units), (None, units)])
    return dec


def _inputs(b, S=5, d=6, units=8, seed=1):
    rng = np.random.default_rng(seed)
    enc = rng.normal(size=(b, S, d)).astype("float32")
    ids = rng.integers(0, 4, size=(b, S)).astype("int64")
    ids[:, 0] = 2                          # at least one real token per row ...
    ids[0] = 0                             # ... except row 0: an empty document
    h0 = rng.normal(size=(b, units)).astype("float32")
    c0 = rng.normal(size=(b, units)).astype("float32")
    return [enc, ids, h0, c0]


def _weights(dec):
    names = ["label_embeddings", "gate_kernel_e", "gate_kernel_bar", "gate_bias", "attn_query",
             "attn_key", "attn_v", "out_state", "out_context", "out_hidden_bias", "out_kernel",
             "out_bias"]
    w = {n: _np(getattr(dec, n)) for n in names}
    w["cell"] = [_np(v) for v in dec.cell.weights]    # kernel, recurrent_kernel, bias
    return w


def _ref_step(w, prev_in, ctx, h, c, enc, ids, banned):
    """One SGM decoder step written out in numpy (Keras LSTM gate order i, f, c, o)."""
    kern, rec, bias = w["cell"]
    z = np.concatenate([prev_in, ctx], -1) @ kern + h @ rec + bias
    i, f, g, o = np.split(z, 4, axis=-1)
    c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    h = _sigmoid(o) * np.tanh(c)
    e = np.tanh(enc @ w["attn_key"] + (h @ w["attn_query"])[:, None, :]) @ w["attn_v"]
    e = np.where(ids != 0, e, -1e9)
    a = _softmax(e)
    ctx = np.einsum("bs,bsd->bd", a, enc)
    hid = np.tanh(h @ w["out_state"] + ctx @ w["out_context"] + w["out_hidden_bias"])
    scores = hid @ w["out_kernel"] + w["out_bias"] - 1e9 * banned
    return scores, ctx, h, c


def _ref_gmix(w, probs, prev):
    table = w["label_embeddings"]
    e = table[prev]
    e_bar = probs @ table[: probs.shape[1]]
    H = _sigmoid(e @ w["gate_kernel_e"] + e_bar @ w["gate_kernel_bar"] + w["gate_bias"])
    return (1 - H) * e + H * e_bar


def _ref_greedy(dec, inputs):
    """Greedy decoding, one document at a time, in plain Python/numpy."""
    w = _weights(dec)
    L = dec.num_labels
    enc, ids, h0, c0 = inputs
    out = []
    for r in range(enc.shape[0]):
        h, c = h0[r:r + 1], c0[r:r + 1]
        g = w["label_embeddings"][[L + 1]]                 # <bos>
        ctx = np.zeros((1, enc.shape[2]), "float32")
        banned = np.zeros((1, L + 1))
        seq = []
        for _ in range(dec.max_steps):
            scores, ctx, h, c = _ref_step(w, g, ctx, h, c, enc[r:r + 1], ids[r:r + 1], banned)
            p = _softmax(scores)
            k = int(p.argmax())
            if k == L:
                break
            seq.append((k, float(p[0, k])))
            banned[0, k] = 1
            g = _ref_gmix(w, p, [k])
        out.append(seq)
    return out


@pytest.mark.multibackend
def test_global_embedding_is_the_gated_mix_hand_example():
    dec = _decoder(L=2, E=2, units=4, d=3)
    table = np.array([[1.0, 0.0], [0.0, 2.0], [4.0, 4.0], [9.0, 9.0]], "float32")  # l0, l1, eos, bos
    w1 = np.array([[1.0, 0.0], [0.0, -1.0]], "float32")
    w2 = np.array([[0.5, 0.0], [0.0, 0.5]], "float32")
    b = np.array([0.0, 1.0], "float32")
    dec.label_embeddings.assign(table)
    dec.gate_kernel_e.assign(w1)
    dec.gate_kernel_bar.assign(w2)
    dec.gate_bias.assign(b)
    probs = np.array([[0.5, 0.25, 0.25]], "float32")
    # by hand: e = e_1 = (0, 2); e_bar = .5*(1,0) + .25*(0,2) + .25*(4,4) = (1.5, 1.5)
    # H = sigmoid((0, -2) + (0.75, 0.75) + (0, 1)) = sigmoid(0.75, -0.25)
    H = 1 / (1 + np.exp(-np.array([0.75, -0.25])))
    want = (1 - H) * np.array([0.0, 2.0]) + H * np.array([1.5, 1.5])
    g, gate = dec.global_embedding(probs, np.array([1]))
    np.testing.assert_allclose(_np(gate)[0], H, rtol=1e-6)
    np.testing.assert_allclose(_np(g)[0], want, rtol=1e-6)
    # ablation: without the global embedding the input is e alone
    plain = _decoder(L=2, E=2, units=4, d=3, global_embedding=False)
    plain.label_embeddings.assign(table)
    np.testing.assert_allclose(_np(plain.global_embedding(probs, np.array([1]))[0])[0], [0.0, 2.0])


@pytest.mark.multibackend
@pytest.mark.parametrize("seed", [0, 1])
def test_greedy_decoding_matches_numpy_reference_and_never_repeats(seed):
    L = 6
    dec = _decoder(L=L, seed=seed)
    # make <eos> unlikely so decoding runs long enough for repeats to be possible
    dec.out_bias.assign(np.r_[np.zeros(L), -3.0].astype("float32"))
    inputs = _inputs(48, seed=seed + 10)
    out = {k: _np(v) for k, v in dec.decode(inputs).items()}
    ref = _ref_greedy(dec, inputs)
    lengths = []
    for r, seq in enumerate(ref):
        got = [int(v) for v in out["labels"][r] if v >= 0]
        assert got == [k for k, _ in seq]
        np.testing.assert_allclose(out["probabilities"][r][: len(seq)], [p for _, p in seq], rtol=1e-4)
        assert len(set(got)) == len(got)                       # never a repeated label
        # -1 only after the stop, never in between
        assert (out["labels"][r][len(got):] == -1).all()
        assert bool(out["stopped"][r]) == (len(seq) < dec.max_steps)
        lengths.append(len(got))
    assert max(lengths) == L                                     # some rows use all steps
    # the logits mark exactly the emitted labels, with log((1+p)/(1-p))
    emitted = np.zeros((48, L), bool)
    want = np.full((48, L), NOT_EMITTED_LOGIT, "float32")
    for r, seq in enumerate(ref):
        for k, p in seq:
            emitted[r, k] = True
            want[r, k] = np.log((1 + p) / (1 - p))
    np.testing.assert_array_equal(out["logits"] > 0, emitted)
    np.testing.assert_array_equal(_sigmoid(out["logits"]) > 0.5, emitted)
    np.testing.assert_allclose(out["logits"], want, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(_np(dec(inputs)), out["logits"], rtol=1e-6)


@pytest.mark.multibackend
def test_mask_forbids_repeats_even_when_one_label_dominates():
    # Output = bias only: label 3 dominates every step; without the mask it would repeat.
    L = 5
    dec = _decoder(L=L)
    dec.out_kernel.assign(np.zeros_like(_np(dec.out_kernel)))
    dec.out_bias.assign(np.array([1.0, 2.0, 0.0, 9.0, 3.0, -50.0], "float32"))   # eos last
    out = {k: _np(v) for k, v in dec.decode(_inputs(4)).items()}
    np.testing.assert_array_equal(out["labels"], np.tile([3, 4, 1, 0, 2], (4, 1)))
    assert not out["stopped"].any()
    # once every label is masked only <eos> is left: p(eos) = 1 at the next step
    assert (out["logits"] > 0).all()


@pytest.mark.multibackend
def test_decoding_stops_at_the_end_token():
    L = 5
    dec = _decoder(L=L)
    dec.out_kernel.assign(np.zeros_like(_np(dec.out_kernel)))
    # step 1: label 2 (10) beats <eos> (5); step 2: label 2 is masked, <eos> wins -> stop
    bias = np.array([0.0, 0.0, 10.0, 0.0, 0.0, 5.0], "float32")
    dec.out_bias.assign(bias)
    out = {k: _np(v) for k, v in dec.decode(_inputs(3)).items()}
    np.testing.assert_array_equal(out["labels"], np.tile([2, -1, -1, -1, -1], (3, 1)))
    assert out["stopped"].all()
    p = _softmax(bias)[2]
    want = np.full(L, NOT_EMITTED_LOGIT, "float32")
    want[2] = np.log((1 + p) / (1 - p))
    np.testing.assert_allclose(out["logits"], np.tile(want, (3, 1)), rtol=1e-5)
    # <eos> first: the empty set, every logit "not emitted"
    dec.out_bias.assign(np.array([0.0, 0.0, 4.0, 0.0, 0.0, 6.0], "float32"))
    out = {k: _np(v) for k, v in dec.decode(_inputs(3)).items()}
    assert (out["labels"] == -1).all() and out["stopped"].all()
    assert (out["logits"] == NOT_EMITTED_LOGIT).all()


def test_emitted_logits_mapping():
    p = np.array([[0.2, 0.5, 0.999, 1.0, 0.7]], "float32")
    em = np.array([[1, 1, 1, 1, 0]], "float32")
    z = _np(emitted_logits(em, p))
    # sigmoid(z) = (1 + p) / 2 for emitted labels: above 0.5 even for p < 0.5 (greedy argmax)
    np.testing.assert_allclose(_sigmoid(z[0, :3]), (1 + p[0, :3]) / 2, rtol=1e-5)
    assert np.isfinite(z).all() and z[0, 3] > 15 and z[0, 4] == NOT_EMITTED_LOGIT


def test_label_order_and_target_sequence():
    y = np.array([[1, 0, 1, 1], [0, 1, 0, 1], [0, 0, 0, 1], [0, 0, 0, 1]], "float32")
    rank = label_frequency_rank(y)            # frequencies 1, 1, 1, 4 -> label 3 first, ties by index
    assert rank == [1, 2, 3, 0]
    dec = _decoder(L=4, max_steps=2, rank=rank)
    batch = np.array([[1, 0, 1, 1], [0, 1, 0, 0], [0, 0, 0, 0], [1, -1, 0, 0]], "float32")
    targets, weights = (_np(t) for t in dec.target_sequence(batch))
    eos = 4
    # row 0 has 3 labels > max_steps=2: its two most frequent, no <eos> (weight 0)
    np.testing.assert_array_equal(targets, [[3, 0, eos], [1, eos, eos], [eos, eos, eos], [0, eos, eos]])
    np.testing.assert_array_equal(weights, [[1, 1, 0], [1, 1, 0], [1, 0, 0], [1, 1, 0]])


@pytest.mark.multibackend
def test_teacher_forced_loss_matches_numpy_reference():
    L = 4
    dec = _decoder(L=L, max_steps=3, rank=[2, 0, 3, 1])
    inputs = _inputs(5, seed=3)
    y = np.array([[1, 1, 0, 0], [0, 0, 0, 1], [1, 1, 1, 1], [0, 0, 0, 0], [0, 1, 1, 0]], "float32")
    w = _weights(dec)
    enc, ids, h0, c0 = inputs
    order = np.argsort(dec.label_rank)        # labels by frequency: 1, 3, 0, 2
    nll = []
    for r in range(5):
        seq = [int(k) for k in order if y[r, k] == 1]
        tgt = seq[:3] + ([L] if len(seq) <= 3 else [])
        h, c = h0[r:r + 1], c0[r:r + 1]
        g, ctx = w["label_embeddings"][[L + 1]], np.zeros((1, enc.shape[2]), "float32")
        banned, total = np.zeros((1, L + 1)), 0.0
        for t, k in enumerate(tgt):
            scores, ctx, h, c = _ref_step(w, g, ctx, h, c, enc[r:r + 1], ids[r:r + 1], banned)
            p = _softmax(scores)
            total -= np.log(p[0, k])
            if k < L:
                banned[0, k] = 1
            g = _ref_gmix(w, p, [k])
        nll.append(total)
    got = float(_np(dec.sequence_loss(inputs, y, training=False)))
    assert got == pytest.approx(np.mean(nll), rel=1e-4)
    sw = np.array([1, 0, 2, 0, 1], "float32")
    got_w = float(_np(dec.sequence_loss(inputs, y, sample_weight=sw, training=False)))
    assert got_w == pytest.approx(np.dot(sw, nll) / sw.sum(), rel=1e-4)


TEXTS = ["wheat exports rise", "gold price falls", "wheat and corn harvest", "crude oil supply",
         "gold mine output", "oil and gas prices"]
Y = np.array([[1, 0, 0, 1], [0, 1, 0, 0], [1, 0, 0, 1], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 1, 0]],
             "float32")
LABELS = ["grain", "gold", "crude", "wheat"]


@pytest.fixture(scope="module")
def tiny():
    keras.utils.set_random_seed(0)
    return zoo.build("sgm", num_labels=4, train_inputs=TEXTS, train_labels=Y, sequence_length=6,
                     embedding_dim=8, encoder_units=6, label_embedding_dim=4, max_steps_cap=10)


def test_builder_fits_order_and_steps_on_train(tiny):
    assert isinstance(tiny, SGM)
    assert tiny.max_steps == 2                         # the largest training label set
    assert tiny.label_rank == label_frequency_rank(Y)
    assert sgm(num_labels=4, train_inputs=TEXTS, train_labels=Y, sequence_length=6,
               embedding_dim=8, encoder_units=6, max_steps_cap=1).max_steps == 1
    with pytest.raises(ValueError, match="max_steps"):
        SGMDecoder(3, 4, max_steps=4)


def test_model_output_is_the_decoded_set_and_loss_is_finite(tiny):
    x = np.array(TEXTS + ["", "never seen words"], dtype=object)
    out = tiny.decode(x)
    logits = _np(tiny(keras.ops.convert_to_tensor(x)))
    np.testing.assert_allclose(logits, out["logits"], rtol=1e-6)
    for r in range(len(x)):
        assert set(np.flatnonzero(logits[r] > 0)) == {int(v) for v in out["labels"][r] if v >= 0}
    loss = float(_np(tiny.compute_loss(x=keras.ops.convert_to_tensor(np.array(TEXTS, dtype=object)),
                                       y=Y, training=False)))
    assert np.isfinite(loss) and loss > 0


def test_checkpoint_round_trip_raw_strings(tiny, tmp_path):
    card = checkpoint.new_card(
        name="tiny/sgm", architecture="sgm", dataset="tiny", kind="text", label_names=LABELS,
        input_spec={"kind": "text"}, architecture_options={}, recipe={},
        thresholds=zoo.thresholds.GlobalThreshold(0.5).to_dict(),
        training={"wall_time_s": 1.0, "seed": 0}, paper="Yang et al., COLING 2018 (SGM)")
    folder = checkpoint.write(tmp_path / "tiny-sgm", tiny, card)
    loaded, _ = checkpoint.read(folder)
    assert isinstance(loaded, SGM) and loaded.get_config() == tiny.get_config()
    x = np.array(TEXTS + ["WHEAT, gold!", "unknown tokens only"], dtype=object)
    xt = keras.ops.convert_to_tensor(x)
    np.testing.assert_allclose(_np(loaded(xt)), _np(tiny(xt)), rtol=1e-6, atol=1e-6)
    m = zoo.load(folder)
    dec = tiny.decode(x)
    want = [[LABELS[int(k)] for k in sorted(v for v in row if v >= 0)] for row in dec["labels"]]
    assert [sorted(s) for s in m.predict_labels(list(x))] == [sorted(s) for s in want]
