"""A simulated Asterisk 22.10.1: an AMI server built from the captures.

``server`` listens and holds the connections, ``connection`` is one manager
session, ``actions`` and ``callactions`` answer the actions, ``answers``
shapes their responses, ``pbx``, ``dialplan``, ``channels`` and ``queue``
run the calls, and ``captured`` holds the facts taken from the captures.
"""

from gateway.simulator.manager import SimUser
from gateway.simulator.server import DEFAULT_USERS, Simulator

__all__ = ["DEFAULT_USERS", "SimUser", "Simulator"]
