"""Jobs and paging: a finished report becomes a ticket with SLA clocks, and an engineer is
paged with 接单 / 拒单 until someone takes it.

    summary.py   the words that describe a ticket; telling the service managers
    sites.py     which sites a manager's board and reports cover (their scope)
    status.py    `move`: the one way a ticket's status changes (rules/lifecycle.py's table)
    clocks.py    the SLA deadlines as durable timers (their kinds: `SlaDue`)
    paging.py    who is paged, accept / decline, the ack timeout
    opening.py   registering the ticket from a finished report
"""
