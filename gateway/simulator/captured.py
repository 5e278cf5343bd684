"""Facts about the captured Asterisk 22.10.1 that the simulator reproduces.

The action table is what ``Action: ListCommands`` listed on that Asterisk
(names, synopses and required write classes); ``manager show commands``
prints the same table.  The dialplan and queue mirror the test setup that
the captures describe (context ``test``, queue ``testq``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

BANNER: Final = b"Asterisk Call Manager/11.0.0\r\n"
TRUE_WORDS: Final = frozenset({"yes", "true", "y", "t", "1", "on"})
"""ast_true(): the words Asterisk reads as yes."""
FALSE_WORDS: Final = frozenset({"no", "false", "n", "f", "0", "off"})
"""ast_false(): the words Asterisk reads as no."""
VERSION_LINE: Final = (
    "Asterisk 22.10.1 built by root @ vm on a x86_64 running Linux on 2026-11-27 08:56:18 UTC"
)
SYNOPSIS_WIDTH: Final = 46
"""``manager show commands`` cuts each synopsis to this many characters."""
NAME_WIDTH: Final = 32


@dataclass(frozen=True, slots=True)
class ActionInfo:
    name: str
    classes: str
    """Required write classes as manager.conf text; empty means none needed."""
    synopsis: str

    @property
    def privilege(self) -> str:
        """As ListCommands prints it: ``call,all`` or ``<none>``."""
        return f"{self.classes},all" if self.classes else "<none>"


ACTIONS: Final[tuple[ActionInfo, ...]] = (
    ActionInfo("AbsoluteTimeout", "system,call", "Set absolute timeout."),
    ActionInfo("AgentLogoff", "agent", "Sets an agent as no longer logged in."),
    ActionInfo("Agents", "agent", "Lists agents and their status."),
    ActionInfo("AGI", "agi", "Add an AGI command to execute by Async AGI."),
    ActionInfo("AOCMessage", "aoc", "Generate an Advice of Charge message on a channel."),
    ActionInfo("Atxfer", "call", "Attended transfer."),
    ActionInfo("BlindTransfer", "call", "Blind transfer channel(s) to the given destination"),
    ActionInfo("Bridge", "call", "Bridge two channels already in the PBX."),
    ActionInfo("BridgeDestroy", "", "Destroy a bridge."),
    ActionInfo("BridgeInfo", "", "Get information about a bridge."),
    ActionInfo("BridgeKick", "", "Kick a channel from a bridge."),
    ActionInfo("BridgeList", "", "Get a list of bridges in the system."),
    ActionInfo(
        "BridgeTechnologyList", "", "List available bridging technologies and their statuses."
    ),
    ActionInfo("BridgeTechnologySuspend", "", "Suspend a bridging technology."),
    ActionInfo("BridgeTechnologyUnsuspend", "", "Unsuspend a bridging technology."),
    ActionInfo("CancelAtxfer", "call", "Cancel an attended transfer."),
    ActionInfo("Challenge", "", "Generate Challenge for MD5 Auth."),
    ActionInfo("Command", "command", "Execute Asterisk CLI Command."),
    ActionInfo("ConfbridgeKick", "call", "Kick a Confbridge user."),
    ActionInfo("ConfbridgeList", "reporting", "List participants in a conference."),
    ActionInfo("ConfbridgeListRooms", "reporting", "List active conferences."),
    ActionInfo("ConfbridgeLock", "call", "Lock a Confbridge conference."),
    ActionInfo("ConfbridgeMute", "call", "Mute a Confbridge user."),
    ActionInfo(
        "ConfbridgeSetSingleVideoSrc",
        "call",
        ("Set a conference user as the single video source distributed to all other participants."),
    ),
    ActionInfo("ConfbridgeStartRecord", "system", "Start recording a Confbridge conference."),
    ActionInfo("ConfbridgeStopRecord", "system", "Stop recording a Confbridge conference."),
    ActionInfo("ConfbridgeUnlock", "call", "Unlock a Confbridge conference."),
    ActionInfo("ConfbridgeUnmute", "call", "Unmute a Confbridge user."),
    ActionInfo("CoreSettings", "system,reporting", "Show PBX core settings (version etc)."),
    ActionInfo(
        "CoreShowChannelMap",
        "system,reporting",
        "List all channels connected to the specified channel.",
    ),
    ActionInfo("CoreShowChannels", "system,reporting", "List currently active channels."),
    ActionInfo("CoreStatus", "system,reporting", "Show PBX core status variables."),
    ActionInfo("CreateConfig", "config", "Creates an empty file in the configuration directory."),
    ActionInfo("DBDel", "system", "Delete DB entry."),
    ActionInfo("DBDelTree", "system", "Delete DB Tree."),
    ActionInfo("DBGet", "system,reporting", "Get DB Entry."),
    ActionInfo(
        "DBGetTree", "system,reporting", "Get DB entries, optionally at a particular family/key"
    ),
    ActionInfo("DBPut", "system", "Put DB entry."),
    ActionInfo("DeviceStateList", "call,reporting", "List the current known device states."),
    ActionInfo("DialplanExtensionAdd", "system", "Add an extension to the dialplan"),
    ActionInfo("DialplanExtensionRemove", "system", "Remove an extension from the dialplan"),
    ActionInfo("Events", "", "Control Event Flow."),
    ActionInfo("ExtensionState", "call,reporting", "Check Extension Status."),
    ActionInfo("ExtensionStateList", "call,reporting", "List the current known extension states."),
    ActionInfo("Filter", "system", "Dynamically add filters for the current manager session."),
    ActionInfo("GetConfig", "system,config", "Retrieve configuration."),
    ActionInfo("GetConfigJSON", "system,config", "Retrieve configuration (JSON format)."),
    ActionInfo("Getvar", "call,reporting", "Gets a channel variable or function value."),
    ActionInfo("Hangup", "system,call", "Hangup channel."),
    ActionInfo("ListCategories", "config", "List categories in configuration file."),
    ActionInfo("ListCommands", "", "List available manager commands."),
    ActionInfo("LocalOptimizeAway", "system,call", "Optimize away a local channel when possible."),
    ActionInfo("LoggerRotate", "system,reporting", "Reload and rotate the Asterisk logger."),
    ActionInfo("Login", "", "Login Manager."),
    ActionInfo("Logoff", "", "Logoff Manager."),
    ActionInfo("MailboxCount", "call,reporting", "Check Mailbox Message Count."),
    ActionInfo("MailboxStatus", "call,reporting", "Check mailbox."),
    ActionInfo("MessageSend", "message", "Send an out of call message to an endpoint."),
    ActionInfo(
        "MixMonitor",
        "system",
        (
            "Record a call and mix the audio during the recording.  Use of "
            "StopMixMonitor is required to guarantee the audio file is available "
            "for processing during dialplan execution."
        ),
    ),
    ActionInfo("MixMonitorMute", "system,call", "Mute / unMute a Mixmonitor recording."),
    ActionInfo("ModuleCheck", "system", "Check if module is loaded."),
    ActionInfo("ModuleLoad", "system", "Module management."),
    ActionInfo("MuteAudio", "system", "Mute an audio stream."),
    ActionInfo("Originate", "originate", "Originate a call."),
    ActionInfo("Park", "call", "Park a channel."),
    ActionInfo("ParkedCalls", "call", "List parked calls."),
    ActionInfo("Parkinglots", "call", "Get a list of parking lots"),
    ActionInfo("Ping", "", "Keepalive command."),
    ActionInfo("PlayDTMF", "call", "Play DTMF signal on a specific channel."),
    ActionInfo("PresenceState", "call,reporting", "Check Presence State"),
    ActionInfo("PresenceStateList", "call,reporting", "List the current known presence states."),
    ActionInfo("QueueAdd", "agent", "Add interface to queue."),
    ActionInfo("QueueChangePriorityCaller", "", "Change priority of a caller on queue."),
    ActionInfo("QueueLog", "agent", "Adds custom entry in queue_log."),
    ActionInfo("QueueMemberRingInUse", "agent", "Set the ringinuse value for a queue member."),
    ActionInfo("QueuePause", "agent", "Makes a queue member temporarily unavailable."),
    ActionInfo("QueuePenalty", "agent", "Set the penalty for a queue member."),
    ActionInfo(
        "QueueReload",
        "",
        ("Reload a queue, queues, or any sub-section of a queue or queues."),
    ),
    ActionInfo("QueueRemove", "agent", "Remove interface from queue."),
    ActionInfo("QueueReset", "", "Reset queue statistics."),
    ActionInfo("QueueRule", "", "Queue Rules."),
    ActionInfo("QueueStatus", "", "Show queue status."),
    ActionInfo("QueueSummary", "", "Show queue summary."),
    ActionInfo(
        "QueueWithdrawCaller",
        "",
        ("Request to withdraw a caller from the queue back to the dialplan."),
    ),
    ActionInfo("Redirect", "call", "Redirect (transfer) a call."),
    ActionInfo("Reload", "system,config", "Send a reload event."),
    ActionInfo("SendFlash", "call", "Send a hook flash on a specific channel."),
    ActionInfo(
        "SendText",
        "call",
        (
            "Sends a text message to channel. A content type\tcan be optionally "
            "specified. If not set it is set to an empty string allowing a custom "
            "handler to default it as it sees fit."
        ),
    ),
    ActionInfo("Setvar", "call", "Sets a channel variable or function value."),
    ActionInfo("ShowDialPlan", "config,reporting", "Show dialplan contexts and extensions"),
    ActionInfo(
        "SorceryMemoryCacheExpire",
        "system",
        "Expire (remove) ALL objects from a sorcery memory cache.",
    ),
    ActionInfo(
        "SorceryMemoryCacheExpireObject",
        "system",
        "Expire (remove) an object from a sorcery memory cache.",
    ),
    ActionInfo(
        "SorceryMemoryCachePopulate",
        "system",
        (
            "Expire all objects from a memory cache and populate it with all "
            "objects from the backend."
        ),
    ),
    ActionInfo(
        "SorceryMemoryCacheStale", "system", "Marks ALL objects in a sorcery memory cache as stale."
    ),
    ActionInfo(
        "SorceryMemoryCacheStaleObject",
        "system",
        "Mark an object in a sorcery memory cache as stale.",
    ),
    ActionInfo("Status", "system,call,reporting", "List channel status."),
    ActionInfo(
        "StopMixMonitor",
        "system,call",
        ("Stop recording a call through MixMonitor, and free the recording's file handle."),
    ),
    ActionInfo("UpdateConfig", "config", "Update basic configuration."),
    ActionInfo("UserEvent", "user", "Send an arbitrary event."),
    ActionInfo("WaitEvent", "", "Wait for an event to occur."),
)

ACTIONS_BY_NAME: Final = {info.name.lower(): info for info in ACTIONS}


def listcommands_lines() -> list[tuple[str, str]]:
    """The ``Name: synopsis  (Priv: classes)`` pairs, for every action."""
    return [(a.name, f"{a.synopsis}  (Priv: {a.privilege})") for a in ACTIONS]


def show_commands_lines() -> list[str]:
    """``manager show commands`` as the CLI prints it, one string a line."""
    lines = [
        "  " + "Action".ljust(NAME_WIDTH) + "Synopsis",
        "  " + "------".ljust(NAME_WIDTH) + "--------",
    ]
    for a in ACTIONS:
        lines.append("  " + a.name.ljust(NAME_WIDTH) + (a.synopsis + " ")[:SYNOPSIS_WIDTH])
    return lines


CONTEXT: Final = "test"
ANSWER_DELAY: Final = 0.5
"""Simulated seconds that Answer() took on the captured Asterisk (the next
Newexten came 0.5 s after it)."""

DIALPLAN: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    # 100, 300 and 600 are exactly what the captures show; the others follow
    # the fixtures README's description with the same NoOp/Answer pattern.
    "100": (("NoOp", "test 100"), ("Answer", ""), ("Wait", "2")),
    "200": (("NoOp", "test 200"), ("Answer", ""), ("Wait", "30")),
    "201": (("NoOp", "test 201"), ("Answer", ""), ("Echo", "")),
    "300": (
        ("NoOp", "test 300"),
        ("Answer", ""),
        ("UserEvent", "TestEvent,Foo: bar,Baz: qux"),
        ("Wait", "1"),
        ("Hangup", ""),
    ),
    "400": (("NoOp", "test 400"), ("Dial", "Local/100@test")),
    "500": (("NoOp", "test 500"), ("Queue", "testq")),
    "600": (("Answer", ""), ("Wait", "60")),
    "700": (("NoOp", "test 700"), ("Answer", ""), ("Set", "TESTVAR=hello"), ("Wait", "5")),
}
HANGUP_HANDLER: Final = ("NoOp", "hangup handler")
"""The ``h`` extension's only priority."""

QUEUE: Final = "testq"
QUEUE_MEMBER: Final = "Local/200@test"
QUEUE_MEMBER_NAME: Final = "StaticMember200"
