"""The hybrid search's tuned constants, in one place (the model is in kb/hybrid.py).

Chosen by cross-validation, 2026-12-01, with

    OMP_NUM_THREADS=1 .venv/bin/python bench/kb_crossval.py --print-tuned

which fits the fusion weights (a grid of five), the logistic abstention model and its
threshold `tau` (objective: top-3 rate minus 2 x false-suggestion rate) on one labelled
set and reports on the other, both ways. The values below are the fit on the SHIPPED
set only (kb/articles + bench/kb_eval.tsv, whose queries are also the labelled examples
in kb/data/intent_examples.tsv); bench/unseen was never used to fit them. Their figures
on bench/unseen are in docs/benchmarks.md ("Knowledge-base search on unseen material").
FEATURES order: fused, lex, cov, dense_z, dense_margin, intent, same_lang.
"""

from __future__ import annotations

from kb.hybrid import Calibration

# Dense and n-gram candidates per language group, beside the lexical engine's own.
DENSE_CANDIDATES = 20

CALIBRATION = Calibration(
    w_lex=1.0, w_cov=0.5, w_dense=1.0,
    mean=(1.5773, 0.5562, 0.4043, 3.2757, 1.4313, 0.04115, 0.5),
    scale=(0.9135, 0.4343, 0.4597, 1.5495, 1.7133, 0.02631, 0.5),
    coef=(1.3957, 0.2220, 1.1833, 2.3402, -2.0070, 1.1713, 0.8335),
    bias=0.5017,
    tau=0.86,
    gap=0.3,
    knn=3,
)
