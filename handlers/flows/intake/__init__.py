"""Intake: a fault described in chat becomes a ticket, after the knowledge base had its say.

    report.py       the report dialogue (its states, buttons and typed data)
    selfservice.py  the articles offered first, and what became of them
    urgency.py      reports that skip the articles and the form: system down or safety (P1)
    media.py        photos and locations sent while reporting, or for an open job
"""
