"""The hybrid search's tuned constants, in one place (the model is in kb/hybrid.py).

Chosen by cross-validation, 2026-12-01, with

    OMP_NUM_THREADS=1 .venv/bin/python bench/kb_crossval.py --print-tuned

which, for each model variant, fits the fusion weights (a grid of five), a logistic
abstention model and its threshold `tau` (objective: top-3 rate minus 2 x
false-suggestion rate) on one labelled set and reports on the other, both ways. The
variant shipped here — a model reading only `fused` and `intent`, L2 30, the message
searched whole and clause by clause (kb.search.clause_windows), and the other language
answering at its own threshold `tau_cross` with articles that have no twin in the
reporter's language only — is the one that did best on both directions among those
measured (the table in docs/benchmarks.md, "Knowledge-base search on unseen
material"); before `tau_cross` (the other language at `tau`, twins allowed) it found
fewer answers in both directions at the same false suggestions, and the same variant's
L2 of 1, 7- and 4-feature models, and the extra features measured by the bench (EXTRA
there) did worse on at least one direction. The values below are its fit on the
SHIPPED set only (kb/articles + bench/kb_eval.tsv, whose queries are also the labelled
examples in kb/data/intent_examples.tsv); bench/unseen was never used to fit them.
Other constants chosen on the same measurement: kb.search.MAX_WINDOWS (6; single
clauses measured the same as clauses plus neighbouring pairs), DENSE_CANDIDATES.
"""

from __future__ import annotations

from kb.hybrid import Calibration

# Dense and n-gram candidates per language group, beside the lexical engine's own.
DENSE_CANDIDATES = 20

CALIBRATION = Calibration(
    w_lex=1.0, w_cov=0.5, w_dense=1.0,
    mean=(1.5780, 0.04112),
    scale=(0.9132, 0.02627),
    coef=(1.8032, 0.3493),
    bias=-0.0147,
    tau=0.43,
    gap=0.3,
    knn=3,
    features=("fused", "intent"),
    tau_cross=0.31,
)
