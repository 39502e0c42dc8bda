"""Classical multi-label baselines, scored on the same standard splits as the checkpoints.

The package has three parts:

* :mod:`zoo.baselines.estimators` -- the estimators (``fit`` / ``predict_proba``): binary
  relevance (logistic regression or linear SVM), classifier chains (ECC), ML-kNN, a
  multi-output random forest, TF-IDF + binary relevance for raw texts, and any of them on a
  frozen image backbone's pooled features (``BackboneFeatures``) for images;
* :mod:`zoo.baselines.registry` / :mod:`zoo.baselines.catalog` -- named baselines registered
  with a decorator (``@register("br-lr", kind="features", grid=[...])``; kinds "features",
  "text", "image"): their default (untuned) settings and the grid the tuned variant
  searches;
* :mod:`zoo.baselines.runner` -- fitting on the benchmark splits: the untuned rows (defaults,
  ``train_full``, cut 0.5) and the tuned rows (hyper-parameters and decision rule chosen on
  ``valid``, like the checkpoints), written to ``results/baselines.json`` (``zoo baselines``,
  ``python -m zoo.baselines``).

Example::

    >>> from zoo import baselines
    >>> baselines.registry.names("text")
    ('tfidf-br-lr', 'tfidf-br-svm')
    >>> model, params = baselines.make("mlknn", k=5)
    >>> type(model).__name__, params["k"]
    ('MLkNN', 5)
"""
from zoo.baselines import registry  # noqa: F401
from zoo.baselines.estimators import (TFIDF, BackboneFeatures, BinaryRelevance,  # noqa: F401
                                      ClassifierChain, EnsembleClassifierChains,
                                      MissingDependencyError, MLkNN, RandomForest,
                                      TfidfBinaryRelevance, svm_score)
from zoo.baselines import catalog  # noqa: F401,E402  (registers the named baselines)
from zoo.baselines.registry import register  # noqa: F401,E402
from zoo.baselines.runner import (ALL_DATASETS, ALL_NAMES, BASELINES_BY_KIND,  # noqa: F401,E402
                                  DATASETS, FORMAT, IMAGE_DATASETS, IMAGE_NAMES, NAMES,
                                  RESULTS_PATH, SKIP, TEXT_DATASETS, TEXT_NAMES, TUNED_BY_KIND,
                                  calibrate, evaluate_baseline, inputs, kind_of, make,
                                  names_for, read_results, run, tune_baseline, tuned_name)
