"""Engineer work on a job they hold: progress, ask the reporter, re-grade, resolve.

    keyboard.py   the work buttons (their actions: `Action`), shown by other flows too
    work.py       what each button and each typed note does
"""
