"""The gateway's state, driven with an explicit ``now``: the event log,
sessions, long polls, the dispatcher of AJAM actions, logins, limits and
metrics.  No HTTP here: the wire layers call in.
"""
