"""Reporting: the service plan's figures over a period, as text, charts and chat messages.

    period.py    what a person types (2026-Q3, 2026-11, 2026-W47, from/to) → UTC bounds
    queries.py   the rows one report reads
    rates.py     Rate (met/total against a target), Durations, Targets
    figures.py   every figure, with the definitions in its docstring
    classify.py  the quarterly fault classification
    render.py    terminal table, Markdown, CSV, JSON
    charts.py    PNG charts (matplotlib, in a thread)
    chat.py      /report, the weekly summary, the quarterly classification
"""
