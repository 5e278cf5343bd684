"""The AMI front door: AMI clients over TCP share the gateway's one AMI socket.

``[ami_server]`` (``settings``) turns it on.  ``protocol`` is the sans-I/O
wire (Asterisk 22's, byte for byte where the captures show it);
``connection`` the asyncio shell of one client; ``server`` the listener.
Each connection is a session of the gateway's ``SessionStore``, and every
action goes through the same ``Dispatcher``, users, rights, filters, limits
and login gate as AJAM.  This is a wire layer beside ``gateway.http``: it
imports neither it nor ``gateway.config``.
"""

from gateway.amiserver.connection import DoorParts
from gateway.amiserver.server import AmiDoor
from gateway.amiserver.settings import AmiServerConfig

__all__ = ["AmiDoor", "AmiServerConfig", "DoorParts"]
