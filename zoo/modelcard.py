"""The generated model card (a checkpoint's README.md), with the Hugging Face YAML header.

Every number in a card comes from the checkpoint's ``metrics.json`` and ``zoo.json``; the
template itself is documented in the top-level MODEL_CARD.md.
"""
from __future__ import annotations

import json

# The metrics shown in cards and the Hub's model-index, in this order.
CARD_METRICS = [
    ("micro_f1", "Micro-F1"), ("macro_f1", "Macro-F1"), ("example_f1", "Example-F1"),
    ("hamming_loss", "Hamming loss"), ("subset_accuracy", "Subset accuracy"),
    ("mean_average_precision", "mAP (macro)"), ("precision_at_1", "P@1"),
    ("precision_at_3", "P@3"), ("one_error", "One-error"), ("ranking_loss", "Ranking loss"),
    ("coverage", "Coverage"), ("lrap", "LRAP"), ("macro_auc", "Macro AUC"),
    # the image-annotation protocol (top-5 labels per example, averaged over labels)
    ("annot_top5_precision", "Annotation P (top-5, per label)"),
    ("annot_top5_recall", "Annotation R (top-5, per label)"),
    ("annot_top5_f1", "Annotation F1 (top-5, per label)"),
    ("annot_top5_n_plus", "N+ (labels with recall > 0)"),
]
LOWER_IS_BETTER = {"hamming_loss", "one_error", "ranking_loss", "coverage"}
TASK_TYPE = {"text": "text-classification", "image": "image-classification",
             "features": "tabular-classification"}


def _yaml_str(s) -> str:
    return json.dumps(str(s))  # a JSON string is a valid YAML scalar


def render(card: dict, metrics: dict | None) -> str:
    name = card["name"]
    dataset = card["dataset"]
    kind = card.get("kind", "features")
    tags = ["keras", "zoo", "multi-label-classification", kind, card["architecture"]]
    lines = ["---", "library_name: keras", f"license: {card.get('license', 'apache-2.0')}",
             "tags:"] + [f"- {t}" for t in tags] + ["datasets:", f"- {_yaml_str(dataset)}"]
    values = (metrics or {}).get("metrics", {})
    if values:
        lines += ["model-index:", f"- name: {_yaml_str(name)}", "  results:",
                  "  - task:", f"      type: {TASK_TYPE.get(kind, 'other')}",
                  "      name: Multi-label classification",
                  "    dataset:", f"      name: {_yaml_str(dataset)}",
                  f"      type: {_yaml_str(dataset)}",
                  f"      split: {metrics.get('split', 'test')}",
                  "    metrics:"]
        for key, label in CARD_METRICS:
            if key in values and values[key] is not None:
                lines += [f"    - type: {key}", f"      name: {_yaml_str(label)}",
                          f"      value: {values[key]:.6g}"]
    lines.append("---")

    tr = card.get("training", {})
    hw = tr.get("hardware", {})
    labels = card.get("label_names", [])
    ft = card.get("finetune")
    if ft:  # written by zoo.finetune: user data, a base checkpoint
        intro = (f"`{card['architecture']}` ({card.get('paper') or 'see zoo.models'})"
                 + (" trained from fresh weights" if ft.get("fresh")
                    else f" fine-tuned from `{ft.get('base')}`")
                 + f" on `{dataset}` ({len(labels)} labels) with `zoo finetune`.")
    else:
        intro = (f"`{card['architecture']}` ({card.get('paper') or 'see zoo.models'}) trained on"
                 f" the `{dataset}` benchmark ({len(labels)} labels) by the zoo multi-label"
                 " model zoo.")
    body = [
        f"# {name}",
        "",
        intro,
        "",
        "## Use",
        "",
        "```python",
        "import zoo",
        (f"model = zoo.load({name!r})" if not ft else
         'model = zoo.load("path/to/this/folder")   # a fine-tuned folder loads by its path'),
        "model.predict_labels(x)      # label sets; model.predict_proba(x) for probabilities",
        "```",
        "",
        "The folder is also a plain Keras 3 archive: after `import zoo`,"
        " `keras.saving.load_model(folder)` returns the model (raw inputs in, logits out).",
        "",
    ]
    if values:
        split = metrics.get("split", "test")
        heading = "Test-split results" if split == "test" else f"Results on the {split} split"
        body += [f"## {heading} (`{split}`, {metrics.get('num_examples', '?')} examples)", ""]
        if metrics.get("note"):
            body += [f"**{metrics['note']}.**", ""]
        sel = (card.get("training") or {}).get("threshold_selection")
        chosen = (f" `{sel['chosen']}`, chosen among {', '.join(sel['candidates'])} by the"
                  f" {sel['criterion']}" if sel else "")
        body += [f"Computed by `zoo {'finetune' if ft else 'evaluate'}` from this folder;"
                 " decisions use the thresholds calibrated on the validation split"
                 f" (`{(card.get('thresholds') or {}).get('rule', '?')}`{chosen}).", "",
                 "| metric | value |", "|---|---|"]
        for key, label in CARD_METRICS:
            if key in values and values[key] is not None:
                arrow = " (lower is better)" if key in LOWER_IS_BETTER else ""
                body.append(f"| {label}{arrow} | {values[key]:.4f} |")
        body.append("")
    body += [
        "## Training",
        "",
        (f"- Recipe: `{tr.get('recipe_path', 'n/a')}`; members combined, no training of its"
         " own (members trained from a recipe are listed with their seed below)."
         if card.get("ensemble") else
         (f"- Recipe: `{tr.get('recipe_path', 'n/a')}`; seed " if not ft else "- Seed ")
         + f"{tr.get('seed', 'n/a')};"
         f" {tr.get('epochs_run', '?')} epochs (best {tr.get('best_epoch', '?')})."),
        f"- Wall time: {tr.get('wall_time_s', float('nan')):.1f} s on {hw.get('cpu', '?')}"
        f" ({hw.get('cores', '?')} cores), accelerator: {hw.get('accelerator', '?')}."
        " **These weights were trained on a CPU**; the code also runs on GPUs.",
        f"- Parameters: {card.get('parameters', '?')}.",
    ]
    cfg = tr.get("train_config") or {}
    if cfg.get("encoder") == "frozen":
        body.append("- CPU budget: the backbone (encoder) was frozen; its features of every "
                    "training image" + (" and of its mirror image" if cfg.get("mirror") else "")
                    + " were computed once and cached (`zoo.encoding`), and only the head "
                    "trained.")
    adj = tr.get("logit_adjustment")
    if adj and adj.get("tau"):
        body.append(f"- Scores are logit-adjusted for the long-tailed labels (Menon et al., "
                    f"ICLR 2021; tau = {adj['tau']:g} chosen on the validation split for "
                    f"`{adj.get('select_on', '?')}`): `predict_proba` ranks labels within an "
                    "example the balanced way and is *not* a calibrated probability; "
                    "`predict`/`predict_labels` apply per-label cuts that reproduce the "
                    "unadjusted model's calibrated global cut.")
    if card.get("weights_dtype") == "float16":
        body.append("- Weights are stored in float16 (the model computes in float32); the "
                    "results above were measured on the stored weights.")
    ens = card.get("ensemble")
    if ens:  # zoo.ensemble: the members and how they were weighted
        body += [f"- Ensemble: {ens.get('combination', '')}; weighting `{ens.get('weighting')}`"
                 f" chosen on the `{ens.get('selection_split', 'valid')}` split"
                 f" ({ens.get('criterion', '')}). Members:"]
        body += [f"  - `{m.get('name')}` ({m.get('architecture')}, seed {m.get('seed')}, "
                 f"{m.get('source')}): weight {m.get('weight', 0):.4g}"
                 for m in ens.get("members", [])]
        if ens.get("left_out"):
            body.append("  - candidates given weight 0 (not in the model): " + ", ".join(
                f"`{m.get('name')}`" for m in ens["left_out"]))
    if ft:
        reinit = ft.get("reinitialized")
        reinit = (", ".join(f"`{k}` ({v})" for k, v in reinit.items()) or "none"
                  if isinstance(reinit, dict) else str(reinit))
        body += [
            f"- Fine-tuning: base `{ft.get('base')}`; {ft.get('labels', '')}; re-initialized:"
            f" {reinit}; frozen epochs (head only): {ft.get('freeze_epochs', 0)}.",
            f"- Validation split: {ft.get('valid', '?')}.",
        ]
        if ft.get("input"):
            body.append(f"- Inputs: {ft['input']}.")
    body += [
        f"- Library versions: {', '.join(f'{k} {v}' for k, v in card.get('versions', {}).items())}.",
        "",
        "## Limits",
        "",
        ("Fine-tuned on user data: scores on other data will differ; decision thresholds were"
         " tuned on this data's validation split." if ft else
         "A research baseline trained on a public benchmark: scores on other data will differ;"
         " decision thresholds were tuned for this benchmark's validation split.")
        + " See the zoo's MODEL_CARD.md for intended use and known limits.",
        "",
    ]
    return "\n".join(lines + [""] + body)
