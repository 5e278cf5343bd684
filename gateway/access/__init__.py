"""Who may do what: pure rules over the gateway's users, no I/O and no clock.

Permission classes, secrets, users' settings, action rights and event
filters, joined in ``accounts``.
"""
