"""SGM: multi-label classification as label-sequence generation, with the global embedding.

Paper: P. Yang, X. Sun, W. Li, S. Ma, W. Wu, H. Wang. "SGM: Sequence Generation Model for
Multi-label Classification". COLING 2018 (arXiv:1806.04822). Authors' code: lancopku/SGM
(PyTorch; read for its shape, not copied).

Defining mechanism: the label set of a document is generated as a sequence, one label per
decoder step, so each label is predicted conditioned on the labels already emitted.

* **Label order.** Each training label set is written in order of training-set label
  frequency, most frequent first, followed by an end token ``<eos>`` (section 2.1). The order is
  fitted on the training split (``label_rank``) and kept in the model config.
* **Encoder.** Word embeddings -> bidirectional LSTM; ``h_i = [h_i(fwd); h_i(bwd)]``. The decoder
  state starts from the concatenated final states of both directions (as the authors' code), so
  the decoder has ``2 * encoder_units`` units.
* **Decoder** (section 2.2), at step t::

      s_t = LSTM(s_{t-1}, [g(y_{t-1}); c_{t-1}])
      c_t = sum_i a_ti h_i,   a_ti = softmax_i(v_a . tanh(W_a s_t + U_a h_i))   (padding excluded)
      o_t = W_o tanh(W_d s_t + V_d c_t)
      y_t = softmax(o_t + I_t)                  # over the L labels and <eos>

  ``I_t`` is the **mask of already-emitted labels**: ``-inf`` (here ``-1e9``) for every label
  emitted at an earlier step, so no label repeats. ``<eos>`` is never masked.
* **Global embedding** (section 2.3): the next input is not only the embedding ``e`` of the
  argmax label (greedy) but a gated mix with the probability-weighted average embedding
  ``e_bar = sum_i y_{t-1}^(i) e_i``::

      H = sigmoid(W_1 e + W_2 e_bar + b)        # transform gate
      g(y_{t-1}) = (1 - H) * e + H * e_bar

  (The authors' code has bias terms in both gate maps; one bias is equivalent.) At step 1 the
  input is the ``<bos>`` embedding.
* **Training**: teacher forcing on the ordered label sequence (the gold previous label is ``e``;
  ``e_bar`` uses the model's own distribution of the previous step, as the paper's code does),
  cross-entropy summed over the steps of a sequence and averaged over the batch. The mask
  ``I_t`` is applied to the gold prefix during training too, so training and decoding see the
  same masked softmax (the gold next label is never in the prefix, so its loss is finite).
  This lives in :meth:`SGM.compute_loss`; a compiled loss is ignored.

**Inference inside the saved model** is greedy decoding for ``max_steps`` steps (the largest
training label set, capped at ``max_steps_cap``); a document stops at its first ``<eos>``.
The zoo wants logits (b, L), so the decoded set is mapped to scores:

* a label emitted with probability ``p`` (the softmax value of the step that chose it) gets
  ``logit = log((1 + p) / (1 - p))``, i.e. ``sigmoid(logit) = (1 + p) / 2`` in (0.5, 1]: an
  emitted label is always above 0.5 and more confident emissions rank higher;
* a label never emitted gets :data:`NOT_EMITTED_LOGIT` (-30, probability ~1e-13).

So the zoo's fixed threshold 0.5 returns exactly the decoded set (recipes use
``[thresholds] rule = "fixed"``, ``value = 0.5``: SGM decides by decoding, not by a tuned cut).
Ranking metrics see ties among never-emitted labels. (The plain logit of ``p`` would not do:
a greedy argmax can have ``p < 0.5``.)

Deviations, stated: beam search (the paper decodes with beam size 5) is **not** implemented --
decoding is greedy; sizes are CPU-sized (paper: 512-d embeddings, 256 encoder / 512 decoder
units); documents with more than ``max_steps`` labels are trained on their ``max_steps`` most
frequent labels. Training costs one extra forward pass: Keras' train step runs the saved
(greedy) graph for the training metrics and :meth:`SGM.compute_loss` the teacher-forced one.

Example::

    >>> import numpy as np
    >>> y = np.array([[1, 0, 1], [0, 0, 1]], "float32")
    >>> model = sgm(num_labels=3, train_inputs=["good film", "bad film"], train_labels=y,
    ...             sequence_length=8, embedding_dim=8, encoder_units=8, label_embedding_dim=4)
    >>> model.max_steps, model.label_rank                 # label 2 is the most frequent
    (2, [1, 2, 0])
    >>> tuple(model(np.array(["good film"])).shape)
    (1, 3)
    >>> out = model.decode(np.array(["good film"]))        # the emitted sequence itself
    >>> sorted(out) == ["labels", "logits", "probabilities", "stopped"]
    True
"""
from __future__ import annotations

import keras
import numpy as np
from keras import ops

from zoo.models.text_common import DEFAULT_MAX_TOKENS, text_input
from zoo.registry import register_architecture

PAPER = "Yang et al., COLING 2018 (SGM)"

#: Logit of a label the decoder never emitted.
NOT_EMITTED_LOGIT = -30.0
_MASKED = -1e9          # the paper's -inf for already-emitted labels (finite: no NaN in softmax)
_P_MAX = 1.0 - 1e-7     # clip of p before log((1 + p) / (1 - p))

__all__ = ["SGM", "SGMDecoder", "sgm", "label_frequency_rank", "emitted_logits",
           "NOT_EMITTED_LOGIT"]


def label_frequency_rank(train_labels) -> list[int]:
    """Rank of every label by training frequency (0 = most frequent; ties by label index).

    >>> label_frequency_rank(np.array([[1, 0, 1], [0, 0, 1]]))
    [1, 2, 0]
    """
    y = np.asarray(train_labels)
    if y.ndim != 2:
        raise ValueError(f"train_labels must be a (n, L) matrix, got shape {y.shape}")
    freq = (y > 0.5).sum(axis=0)
    order = np.argsort(-freq, kind="stable")
    rank = np.empty(len(freq), dtype=np.int64)
    rank[order] = np.arange(len(freq))
    return rank.tolist()


def emitted_logits(emitted, probabilities):
    """SGM's (b, L) output logits from a decoded set: ``log((1 + p) / (1 - p))`` where
    ``emitted`` is 1 (``p`` = the emission probability), :data:`NOT_EMITTED_LOGIT` elsewhere.

    >>> np.round(np.asarray(emitted_logits(np.array([[1., 0.]]), np.array([[0.6, 0.9]]))), 3)
    array([[  1.386, -30.   ]], dtype=float32)
    """
    emitted = ops.cast(emitted, "float32")
    p = ops.clip(ops.cast(probabilities, "float32"), 0.0, _P_MAX)
    value = ops.log1p(p) - ops.log1p(-p)
    return ops.where(emitted > 0.5, value, ops.full_like(value, NOT_EMITTED_LOGIT))


@keras.saving.register_keras_serializable(package="zoo")
class SGMDecoder(keras.layers.Layer):
    """SGM's decoder: attention LSTM + global embedding + emitted-label mask (module docstring).

    Inputs ``[encoder_states (b, S, d), token_ids (b, S), h0 (b, units), c0 (b, units)]``;
    token id 0 is padding (no attention). Output of ``call``: the (b, L) logits of greedy
    decoding (:func:`emitted_logits`). Output classes are ``0..L-1`` (labels, original
    order) and ``L`` (``<eos>``); label embeddings have one more row, ``L + 1`` = ``<bos>``.

    Args:
        num_labels: L.
        units: decoder LSTM units (= width of h0, c0).
        label_embedding_dim: size of the label embeddings ``e_i``.
        attention_units: width of the additive attention (default ``units``).
        max_steps: greedy decoding steps (the most labels one document can get).
        label_rank: frequency rank of every label (0 = most frequent): the order of the
            teacher-forced target sequences.
        dropout: dropout on the decoder's output layer input (training only).
        global_embedding: ``False`` feeds ``e`` alone (the paper's plain "SGM" ablation).
    """

    def __init__(self, num_labels: int, units: int, label_embedding_dim: int = 64,
                 attention_units: int | None = None, max_steps: int = 1, label_rank=None,
                 dropout: float = 0.0, global_embedding: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.num_labels, self.units = int(num_labels), int(units)
        self.label_embedding_dim = int(label_embedding_dim)
        self.attention_units = int(attention_units or units)
        self.max_steps = int(max_steps)
        if self.num_labels < 1 or self.units < 1 or self.label_embedding_dim < 1:
            raise ValueError("num_labels, units and label_embedding_dim must be >= 1")
        if not 1 <= self.max_steps <= self.num_labels:
            raise ValueError(f"max_steps must be in [1, num_labels={self.num_labels}], got {max_steps}")
        rank = list(range(self.num_labels)) if label_rank is None else [int(r) for r in label_rank]
        if sorted(rank) != list(range(self.num_labels)):
            raise ValueError(f"label_rank must be a permutation of 0..{self.num_labels - 1}")
        self.label_rank = rank
        self.dropout = float(dropout)
        self.global_embedding_enabled = bool(global_embedding)
        self.eos, self.bos = self.num_labels, self.num_labels + 1
        self.cell = keras.layers.LSTMCell(self.units, name="cell")
        self.drop = keras.layers.Dropout(self.dropout)

    def build(self, input_shape):
        enc_shape = input_shape[0]
        d = int(enc_shape[-1])
        L1, E, A, U = self.num_labels + 1, self.label_embedding_dim, self.attention_units, self.units
        w = self.add_weight
        self.label_embeddings = w(shape=(L1 + 1, E), initializer="uniform", name="label_embeddings")
        self.gate_kernel_e = w(shape=(E, E), initializer="glorot_uniform", name="gate_kernel_e")
        self.gate_kernel_bar = w(shape=(E, E), initializer="glorot_uniform", name="gate_kernel_bar")
        self.gate_bias = w(shape=(E,), initializer="zeros", name="gate_bias")
        self.attn_query = w(shape=(U, A), initializer="glorot_uniform", name="attn_query")
        self.attn_key = w(shape=(d, A), initializer="glorot_uniform", name="attn_key")
        self.attn_v = w(shape=(A,), initializer=keras.initializers.RandomUniform(-0.1, 0.1),
                        name="attn_v")
        self.out_state = w(shape=(U, U), initializer="glorot_uniform", name="out_state")
        self.out_context = w(shape=(d, U), initializer="glorot_uniform", name="out_context")
        self.out_hidden_bias = w(shape=(U,), initializer="zeros", name="out_hidden_bias")
        self.out_kernel = w(shape=(U, L1), initializer="glorot_uniform", name="out_kernel")
        self.out_bias = w(shape=(L1,), initializer="zeros", name="out_bias")
        self.cell.build((None, E + d))
        self.context_dim = d
        self.built = True

    # ------------------------------------------------------------------ pieces
    def global_embedding(self, probabilities, previous):
        """``g = (1 - H) * e + H * e_bar`` with ``e`` the embedding of ``previous`` (b,) and
        ``e_bar = probabilities @ E`` (``probabilities`` (b, L + 1) over labels and <eos>);
        ``H = sigmoid(e W_1 + e_bar W_2 + b)``. Returns (g, H)."""
        table = ops.convert_to_tensor(self.label_embeddings)
        e = ops.take(table, ops.cast(previous, "int32"), axis=0)
        if not self.global_embedding_enabled:
            return e, ops.zeros_like(e)
        e_bar = ops.matmul(ops.cast(probabilities, e.dtype), table[: self.num_labels + 1])
        gate = ops.sigmoid(ops.matmul(e, self.gate_kernel_e) + ops.matmul(e_bar, self.gate_kernel_bar)
                           + self.gate_bias)
        return (1.0 - gate) * e + gate * e_bar, gate

    def _prepare(self, inputs):
        enc, token_ids, h0, c0 = inputs
        enc = ops.cast(enc, self.compute_dtype)
        mask = ops.not_equal(token_ids, 0)                         # (b, S)
        keys = ops.einsum("bsd,da->bsa", enc, self.attn_key)       # U_a h_i, once per document
        b = ops.shape(enc)[0]
        g = ops.take(ops.convert_to_tensor(self.label_embeddings),
                     ops.full((b,), self.bos, dtype="int32"), axis=0)
        ctx = ops.zeros((b, self.context_dim), dtype=enc.dtype)
        return enc, mask, keys, [ops.cast(h0, enc.dtype), ops.cast(c0, enc.dtype)], g, ctx

    def _step(self, g, ctx, state, enc, mask, keys, banned, training):
        """One decoder step: returns (masked scores o_t + I_t (b, L + 1), c_t, state)."""
        s, state = self.cell(ops.concatenate([g, ctx], axis=-1), state, training=training)
        e = ops.einsum("bsa,a->bs", ops.tanh(keys + ops.matmul(s, self.attn_query)[:, None, :]),
                       self.attn_v)
        e = ops.where(mask, e, ops.full_like(e, _MASKED))          # all-padding row: uniform
        alpha = ops.softmax(e, axis=-1)
        ctx = ops.einsum("bs,bsd->bd", alpha, enc)
        hidden = ops.tanh(ops.matmul(s, self.out_state) + ops.matmul(ctx, self.out_context)
                          + self.out_hidden_bias)
        hidden = self.drop(hidden, training=training)
        scores = ops.cast(ops.matmul(hidden, self.out_kernel) + self.out_bias, "float32")
        return scores + _MASKED * ops.cast(banned, "float32"), ctx, state  # float32: -1e9 fits

    def _never_ban_eos(self):
        return ops.convert_to_tensor(np.r_[np.ones(self.num_labels), 0.0].astype("float32"))

    # ------------------------------------------------------------------ inference
    def decode(self, inputs, training=False):
        """Greedy decoding. Returns a dict of tensors:

        * ``labels`` (b, max_steps) int32: the label emitted at each step, ``-1`` once the
          document has stopped (at ``<eos>``, which is not listed);
        * ``probabilities`` (b, max_steps): the softmax value of each emitted label (0 at -1);
        * ``stopped`` (b,) bool: ``<eos>`` was emitted within ``max_steps``;
        * ``logits`` (b, L): :func:`emitted_logits` of the emitted set.
        """
        enc, mask, keys, state, g, ctx = self._prepare(inputs)
        b = ops.shape(enc)[0]
        L = self.num_labels
        banned = ops.zeros((b, L + 1), dtype="float32")
        done = ops.zeros((b,), dtype="bool")
        emitted = ops.zeros((b, L), dtype="float32")
        prob_of = ops.zeros((b, L), dtype="float32")
        keep_eos = self._never_ban_eos()
        labels, probs = [], []
        for _ in range(self.max_steps):
            scores, ctx, state = self._step(g, ctx, state, enc, mask, keys, banned, training)
            p = ops.softmax(scores, axis=-1)
            k = ops.cast(ops.argmax(p, axis=-1), "int32")
            onehot = ops.one_hot(k, L + 1, dtype="float32")
            pk = ops.sum(p * onehot, axis=-1)
            new = ops.logical_and(ops.logical_not(done), ops.less(k, L))       # emits a label
            newf = ops.cast(new, "float32")[:, None]
            emitted = emitted + newf * onehot[:, :L]
            prob_of = prob_of + newf * onehot[:, :L] * pk[:, None]
            labels.append(ops.where(new, k, ops.full_like(k, -1)))
            probs.append(ops.where(new, pk, ops.zeros_like(pk)))
            done = ops.logical_or(done, ops.equal(k, L))
            banned = ops.maximum(banned, onehot * keep_eos)
            g, _ = self.global_embedding(ops.cast(p, enc.dtype), k)
        return {"labels": ops.stack(labels, axis=1), "probabilities": ops.stack(probs, axis=1),
                "stopped": done, "logits": emitted_logits(emitted, prob_of)}

    def call(self, inputs, training=False, mask=None):
        # ``mask``: Keras' padding mask of the encoder states; the token ids carry the same
        # information and are what the attention uses (also outside the functional graph).
        return self.decode(inputs, training=training)["logits"]

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], self.num_labels)

    # ------------------------------------------------------------------ training
    def target_sequence(self, y):
        """Teacher-forcing targets of a (b, L) label matrix: ``(targets (b, T + 1) int32,
        weights (b, T + 1))`` with the positive labels in frequency order, then ``<eos>``;
        steps after ``<eos>`` (and the ``<eos>`` of sets longer than ``T``) have weight 0.
        Entries < 0.5 (0 and unknown -1) are negatives."""
        L, T = self.num_labels, self.max_steps
        pos = ops.greater(ops.cast(y, "float32"), 0.5)
        rank = ops.convert_to_tensor(np.asarray(self.label_rank, dtype="int32"))
        key = ops.where(pos, rank[None, :], rank[None, :] + L)
        order = ops.cast(ops.argsort(key, axis=-1), "int32")[:, :T]             # (b, T)
        k = ops.sum(ops.cast(pos, "int32"), axis=-1)[:, None]                     # (b, 1)
        steps = ops.arange(T + 1, dtype="int32")[None, :]
        is_label = ops.logical_and(ops.less(steps, k), ops.less(steps, T))
        is_eos = ops.equal(steps, k)
        order = ops.concatenate([order, ops.full_like(order[:, :1], self.eos)], axis=1)
        targets = ops.where(is_label, order, ops.full_like(order, self.eos))
        return targets, ops.cast(ops.logical_or(is_label, is_eos), "float32")

    def sequence_loss(self, inputs, y, sample_weight=None, training=True):
        """Teacher-forced cross-entropy, summed over a sequence's steps, averaged over the
        batch (weighted by ``sample_weight`` when given)."""
        enc, mask, keys, state, g, ctx = self._prepare(inputs)
        targets, weights = self.target_sequence(y)
        L = self.num_labels
        banned = ops.zeros((ops.shape(enc)[0], L + 1), dtype="float32")
        keep_eos = self._never_ban_eos()
        total = 0.0
        for t in range(self.max_steps + 1):
            scores, ctx, state = self._step(g, ctx, state, enc, mask, keys, banned, training)
            gold = targets[:, t]
            onehot = ops.one_hot(gold, L + 1, dtype="float32")
            nll = -ops.sum(onehot * ops.log_softmax(scores, axis=-1), axis=-1)
            total = total + weights[:, t] * nll
            if t < self.max_steps:
                banned = ops.maximum(banned, onehot * keep_eos * weights[:, t:t + 1])
                g, _ = self.global_embedding(ops.cast(ops.softmax(scores, axis=-1), enc.dtype), gold)
        if sample_weight is not None:
            sw = ops.reshape(ops.cast(sample_weight, "float32"), (-1,))
            return ops.sum(total * sw) / ops.maximum(ops.sum(sw), 1e-12)
        return ops.mean(total)

    def get_config(self):
        config = super().get_config()
        config.update({"num_labels": self.num_labels, "units": self.units,
                       "label_embedding_dim": self.label_embedding_dim,
                       "attention_units": self.attention_units, "max_steps": self.max_steps,
                       "label_rank": list(self.label_rank), "dropout": self.dropout,
                       "global_embedding": self.global_embedding_enabled})
        return config


@keras.saving.register_keras_serializable(package="zoo")
class SGM(keras.Model):
    """SGM (Yang et al., COLING 2018): raw strings -> BiLSTM encoder -> greedy label-sequence
    decoder -> (b, L) logits that mark the emitted labels (see the module docstring).

    Args:
        num_labels: L.
        label_rank: training-frequency rank of each label (:func:`label_frequency_rank`).
        max_steps: greedy decoding steps (most labels per document).
        train_inputs / vocabulary: training texts to fit the vocabulary on, or a vocabulary.
        max_tokens, sequence_length: vocabulary size and pad/truncate length.
        embedding_dim, encoder_units: word embedding size and LSTM units per direction (the
            decoder has ``2 * encoder_units``).
        label_embedding_dim, attention_units, dropout, global_embedding: see :class:`SGMDecoder`.
        vectorizer, vocab_size: the saved text-vectorizer config and vocabulary size (used when
            a checkpoint is re-created; the vocabulary itself comes back from ``assets/``).
    """

    def __init__(self, num_labels: int, label_rank=None, max_steps: int = 1, train_inputs=None,
                 vocabulary=None, max_tokens: int = DEFAULT_MAX_TOKENS, sequence_length: int = 256,
                 embedding_dim: int = 100, encoder_units: int = 128, label_embedding_dim: int = 64,
                 attention_units: int | None = None, dropout: float = 0.2,
                 global_embedding: bool = True, vectorizer: dict | None = None,
                 vocab_size: int | None = None, name: str = "sgm", **kwargs):
        if vectorizer is not None and train_inputs is None and vocabulary is None:
            tv = keras.layers.TextVectorization.from_config(dict(vectorizer))
            inputs = keras.Input(shape=(), dtype="string", name="text")
            token_ids = tv(inputs)
            if vocab_size is None:
                raise ValueError("SGM re-created from a vectorizer config needs vocab_size")
        else:
            inputs, token_ids, vocab_size = text_input(train_inputs, max_tokens, sequence_length,
                                                       vocabulary=vocabulary)
        embedding_dim, encoder_units = int(embedding_dim), int(encoder_units)
        x = keras.layers.Embedding(int(vocab_size), embedding_dim, mask_zero=True,
                                   name="embedding")(token_ids)
        if dropout:
            x = keras.layers.Dropout(float(dropout), name="embedding_dropout")(x)
        enc, h_f, c_f, h_b, c_b = keras.layers.Bidirectional(
            keras.layers.LSTM(encoder_units, return_sequences=True, return_state=True),
            name="encoder")(x)
        h0 = keras.layers.Concatenate(name="decoder_h0")([h_f, h_b])
        c0 = keras.layers.Concatenate(name="decoder_c0")([c_f, c_b])
        decoder = SGMDecoder(num_labels, 2 * encoder_units, label_embedding_dim, attention_units,
                             max_steps, label_rank, dropout, global_embedding, name="decoder")
        logits = decoder([enc, token_ids, h0, c0])
        super().__init__(inputs=inputs, outputs=logits, name=name, **kwargs)
        self.vocab_size = int(vocab_size)
        self.sequence_length = int(sequence_length)
        self.embedding_dim, self.encoder_units = embedding_dim, encoder_units
        self.dropout_rate = float(dropout)

    @property
    def decoder(self) -> SGMDecoder:
        return self.get_layer("decoder")

    @property
    def max_steps(self) -> int:
        return self.decoder.max_steps

    @property
    def label_rank(self) -> list[int]:
        return list(self.decoder.label_rank)

    def encode(self, texts, training=False):
        """The decoder's inputs ``[encoder states, token ids, h0, c0]`` for raw strings."""
        token_ids = self.get_layer("text_vectorizer")(texts)
        x = self.get_layer("embedding")(token_ids)
        if self.dropout_rate:
            x = self.get_layer("embedding_dropout")(x, training=training)
        mask = ops.not_equal(token_ids, 0)
        enc, h_f, c_f, h_b, c_b = self.get_layer("encoder")(x, mask=mask, training=training)
        return [enc, token_ids, ops.concatenate([h_f, h_b], -1), ops.concatenate([c_f, c_b], -1)]

    def decode(self, texts):
        """Greedy decoding of raw strings: :meth:`SGMDecoder.decode`'s dict as numpy arrays."""
        out = self.decoder.decode(self.encode(ops.convert_to_tensor(texts)), training=False)
        return {k: np.asarray(ops.convert_to_numpy(v)) for k, v in out.items()}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Teacher-forced sequence cross-entropy (+ layer regularization losses); ``y_pred``
        (the greedy decoding) is not part of the objective."""
        if y is None:
            raise ValueError("SGM's objective needs the labels y (teacher forcing)")
        if isinstance(x, dict):
            x = next(iter(x.values()))
        elif isinstance(x, (list, tuple)):
            x = x[0]
        loss = self.decoder.sequence_loss(self.encode(x, training=training), y,
                                          sample_weight, training=training)
        if self.losses:
            loss = loss + ops.sum(ops.stack([ops.cast(v, loss.dtype) for v in self.losses]))
        return loss

    def get_config(self):
        dec = self.decoder
        return {"num_labels": dec.num_labels, "label_rank": list(dec.label_rank),
                "max_steps": dec.max_steps, "sequence_length": self.sequence_length,
                "embedding_dim": self.embedding_dim, "encoder_units": self.encoder_units,
                "label_embedding_dim": dec.label_embedding_dim,
                "attention_units": dec.attention_units, "dropout": self.dropout_rate,
                "global_embedding": dec.global_embedding_enabled,
                "vectorizer": self.get_layer("text_vectorizer").get_config(),
                "vocab_size": self.vocab_size, "name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@register_architecture("sgm", kind="text", paper=PAPER, head=("decoder",))
def sgm(num_labels: int, train_inputs=None, train_labels=None, vocabulary=None,
        max_tokens: int = DEFAULT_MAX_TOKENS, sequence_length: int = 256, embedding_dim: int = 100,
        encoder_units: int = 128, label_embedding_dim: int = 64, attention_units: int | None = None,
        dropout: float = 0.2, global_embedding: bool = True, max_steps: int | None = None,
        max_steps_cap: int = 10, name: str = "sgm"):
    """SGM (Yang et al., COLING 2018); see :class:`SGM`.

    ``train_labels`` (the dense training label matrix, passed by ``zoo.train``) fixes the label
    order (by frequency) and ``max_steps`` = the largest training label set, capped at
    ``max_steps_cap`` (an explicit ``max_steps`` wins).
    """
    if train_labels is not None:
        y = np.asarray(train_labels)
        if y.shape[1] != num_labels:
            raise ValueError(f"train_labels has {y.shape[1]} columns, expected {num_labels}")
        rank = label_frequency_rank(y)
        most = int((y > 0.5).sum(axis=1).max(initial=1))
    else:
        rank, most = list(range(num_labels)), num_labels
    if max_steps is None:
        max_steps = max(1, min(most, int(max_steps_cap), num_labels))
    return SGM(num_labels, rank, int(max_steps), train_inputs=train_inputs, vocabulary=vocabulary,
               max_tokens=max_tokens, sequence_length=sequence_length, embedding_dim=embedding_dim,
               encoder_units=encoder_units, label_embedding_dim=label_embedding_dim,
               attention_units=attention_units, dropout=dropout,
               global_embedding=global_embedding, name=name)
