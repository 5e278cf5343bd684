"""The configuration file: TOML to the settings each package owns.

``load`` reads the file and builds ``Config``; ``fields`` holds the readers
for single values, ``ami`` the ``[ami]`` table, ``http`` the ``[http]`` and
``[limits]`` tables, ``users`` the ``[users.NAME]`` tables, ``history`` the
``[history]`` tables and ``amiserver`` the ``[ami_server]`` table
(``[push]`` becomes ``gateway.push.settings``).  Nothing below the top of
``gateway`` imports this package: it is handed the settings it needs.
"""

from gateway.access.users import UserConfig
from gateway.ami.settings import AmiConfig
from gateway.amiserver.settings import AmiServerConfig
from gateway.config.http import HttpConfig, LimitsConfig, check_node_id, check_realm
from gateway.config.load import (
    Config,
    EventsConfig,
    LogConfig,
    demo_config,
    load_config,
    parse_config,
)
from gateway.config.users import check_user_name
from gateway.history.settings import HistoryConfig
from gateway.push.settings import PushSettings

__all__ = [
    "AmiConfig",
    "AmiServerConfig",
    "Config",
    "EventsConfig",
    "HistoryConfig",
    "HttpConfig",
    "LimitsConfig",
    "LogConfig",
    "PushSettings",
    "UserConfig",
    "check_node_id",
    "check_realm",
    "check_user_name",
    "demo_config",
    "load_config",
    "parse_config",
]
