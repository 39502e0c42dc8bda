"""One configuration of a small search on the VALID split (never test), as used for the
wide-deep recipes (issue 13).

Trains ``arch`` on ``dataset``'s train split with early stopping on valid (zoo.train.fit),
then scores valid: F1 at the 0.5 cut, and for the "global" and "per_label" threshold rules
a 2-fold cross-calibration (cut tuned on one random half of valid, scored on the other,
both ways), plus the effect of storing the weights in float16. Appends one JSON line to
``$ZOO_SEARCH_LOG`` (default ``valid_search.jsonl``).

Example:
    python scripts/valid_search.py reuters21578 wide-deep '{"embedding_dim": 100}' \
        '{"loss": "zlpr", "learning_rate": 0.004, "epochs": 25, "patience": 5}' zlpr
"""
import json, os, sys, time
import numpy as np
from zoo.data import benchmarks
from zoo.train import fit
from zoo import thresholds as th, metrics as M

ds, arch, mopts, topts, tag = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4]), sys.argv[5]
tr = benchmarks.load(ds, "train"); va = benchmarks.load(ds, "valid")
t0 = time.time()
r = fit(arch, tr, va, mopts, seed=0, verbose=2, thresholds={"rule": "global"}, **topts)
s = np.asarray(r.model.predict(np.asarray(list(va.x), dtype=object), batch_size=256, verbose=0))
p = 1 / (1 + np.exp(-s)); y = va.labels_dense()
out = {"tag": tag, "model": mopts, "train": topts, "epochs": r.training.get("epochs"),
       "best_epoch": r.training.get("best_epoch"), "sec": round(time.time() - t0),
       "params": int(r.model.count_params())}
out["cut05"] = {"micro": M.micro_f1(y, (p > 0.5).astype(int)), "macro": M.macro_f1(y, (p > 0.5).astype(int))}
# 2-fold cross-calibration on valid: calibrate on one half, score the other
rng = np.random.default_rng(0); idx = rng.permutation(len(y)); halves = [idx[::2], idx[1::2]]
for rule in ("global", "per_label"):
    pred = np.zeros_like(y)
    for a, b in ((0, 1), (1, 0)):
        A, B = halves[a], halves[b]
        rr = th.tune_global(y[A], p[A]) if rule == "global" else th.tune_per_label(y[A], p[A])
        pred[B] = rr.apply(p[B])
    out[rule] = {"micro": M.micro_f1(y, y_pred=pred), "macro": M.macro_f1(y, y_pred=pred)}
out = json.loads(json.dumps(out, default=float))
print("RESULT", json.dumps(out))
with open(os.environ.get("ZOO_SEARCH_LOG", "valid_search.jsonl"), "a") as f:
    f.write(json.dumps(out) + "\n")
# float16 storage check: the same model with every float weight rounded through float16
w = r.model.get_weights()
r.model.set_weights([x.astype(np.float16).astype(np.float32) if x.dtype == np.float32 else x for x in w])
s16 = np.asarray(r.model.predict(np.asarray(list(va.x), dtype=object), batch_size=256, verbose=0))
p16 = 1 / (1 + np.exp(-s16))
print("FP16", json.dumps({"tag": tag, "max_abs_logit_diff": float(np.abs(s16 - s).max()),
      "micro05_32": M.micro_f1(y, (p > 0.5).astype(int)), "micro05_16": M.micro_f1(y, (p16 > 0.5).astype(int)),
      "macro05_32": M.macro_f1(y, (p > 0.5).astype(int)), "macro05_16": M.macro_f1(y, (p16 > 0.5).astype(int))}))
