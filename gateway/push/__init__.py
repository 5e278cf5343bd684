"""Push: the gateway's events streamed to browsers, on the sessions' rules.

* ``GET {prefix}/events``: Server-Sent Events (``gateway.push.sse``);
* ``GET {prefix}/ws``: a WebSocket carrying actions and events
  (``gateway.push.ws``).

Both are authenticated as AJAM is (``gateway.http.caller``), read the shared
event log through the session's own rules (``Session.pending``: read
classes, event mask, filters, owner-only events) with a cursor of their
own, and are written by one fan-out (``gateway.push.fanout``) that runs once
per batch of new events and writes each stream's transport directly.  The
wire shapes are made once per event and cached on it
(``gateway.push.frames``).
"""
