"""Monitoring alarms: incidents, their tickets, and where staff reports meet them."""
