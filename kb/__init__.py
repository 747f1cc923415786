"""Knowledge base: articles, normalisation, tokenisation and search.

Imports nothing else of frontline's; handlers use it through `KnowledgeBase`.
"""

from kb.article import CATEGORIES, LANGS, Article, Hit, LintProblem
from kb.scoring import Tuning
from kb.search import KnowledgeBase, default_articles_dir

__all__ = [
    "CATEGORIES",
    "LANGS",
    "Article",
    "Hit",
    "KnowledgeBase",
    "LintProblem",
    "Tuning",
    "default_articles_dir",
]
