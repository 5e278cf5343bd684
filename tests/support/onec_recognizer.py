"""The recognizer and the history's structures of the 1C kit, twinned: the
pure routines of clients/1c/AjamGateway.bsl (regions Распознавание and
История, and РаспознатьСобытие), mirrored as tests/support/onec_twin.py mirrors the
rest (same literals, same calls; tests/e2e/onec/test_onec_kit.py checks both)."""

from __future__ import annotations

from tests.support.onec_platform import (
    Map,
    Structure,
    is_blank,
    left,
    mid,
    number,
    str_find,
    type_name,
)


def new_state() -> Map:
    """НовоеСостояниеРаспознавания."""
    state = Map()
    state["Звонки"] = Map()
    state["Каналы"] = Map()
    return state


def recognize(event: Map, state: Map, extensions: list[str] | None = None) -> list[Structure]:
    """РаспознатьСобытие."""
    notifications: list[Structure] = []
    name = field_value(event, "Event")
    if name == "DialBegin" or name == "AgentCalled":
        start_dial(event, state, extensions, notifications)
    elif name == "DialEnd":
        ringing = call_of_channel(state, field_value(event, "DestUniqueid"))
        if ringing is not None and not ringing.Отвечен:
            ringing.Статус = field_value(event, "DialStatus")
            if ringing.Статус == "ANSWER":
                answered(ringing, notifications)
    elif name == "Newstate":
        ringing = call_of_channel(state, field_value(event, "Uniqueid"))
        if ringing is not None and field_value(event, "ChannelState") == "6":
            answered(ringing, notifications)
    elif name == "Hangup":
        end_channel(event, state, notifications)
    elif name == "GatewayEventsLost":
        reason = name
        if field_value(event, "Reason") == "Restart":  # ?(…, "GatewayRestarted", Имя)
            reason = "GatewayRestarted"
        lost = field_value(event, "Lost")
        reset_state(state, reason, 0 if is_blank(lost) else number(lost), notifications)
    elif name == "GatewayAMIDown":
        reset_state(state, name, 0, notifications)
    return notifications


# -- the recognizer ----------------------------------------------------------------------


def start_dial(
    event: Map, state: Map, extensions: list[str] | None, notifications: list[Structure]
) -> None:
    """НачалоВызова."""
    channel = field_value(event, "DestChannel")
    extension = extension_of(channel)
    uniqueid = field_value(event, "DestUniqueid")
    if is_blank(extension) or is_blank(uniqueid):
        return
    if extensions is not None and extension not in extensions:
        return
    key = field_value(event, "DestLinkedid") + "|" + extension
    ringing = state["Звонки"][key]
    new = ringing is None
    if new:
        ringing = new_call(event, extension)
        state["Звонки"][key] = ringing
    elif ringing.Канал.startswith("Local/") and not channel.startswith("Local/"):
        ringing.Канал = channel
    ringing.Каналы[uniqueid] = True
    state["Каналы"][uniqueid] = key
    if event["Event"] == "AgentCalled":
        ringing.Очередь = field_value(event, "Queue")
    if new:
        notifications.append(notification("Звонит", ringing))


def new_call(event: Map, extension: str) -> Structure:
    """НовыйЗвонок."""
    ringing = Structure()
    ringing.Вставить("Добавочный", extension)
    ringing.Вставить(
        "НомерЗвонящего",
        first_filled(event, "CallerIDNum", "DestConnectedLineNum", "DestCallerIDNum"),
    )
    ringing.Вставить(
        "ИмяЗвонящего",
        first_filled(event, "CallerIDName", "DestConnectedLineName", "DestCallerIDName"),
    )
    ringing.Вставить("Канал", field_value(event, "DestChannel"))
    ringing.Вставить("КаналЗвонящего", field_value(event, "Channel"))
    ringing.Вставить("Linkedid", field_value(event, "DestLinkedid"))
    ringing.Вставить("Uniqueid", field_value(event, "DestUniqueid"))
    ringing.Вставить("Очередь", "")
    ringing.Вставить("Исходящий", is_blank(ringing.КаналЗвонящего))
    ringing.Вставить("Отвечен", False)
    ringing.Вставить("Статус", "")
    ringing.Вставить("Причина", "")
    ringing.Вставить("Каналы", Map())
    return ringing


def call_of_channel(state: Map, uniqueid: str) -> Structure | None:
    """ЗвонокКанала."""
    key = state["Каналы"][uniqueid]
    if key is None:
        return None
    found: Structure = state["Звонки"][key]
    return found


def answered(ringing: Structure, notifications: list[Structure]) -> None:
    """Ответили."""
    if not ringing.Отвечен:
        ringing.Отвечен = True
        ringing.Статус = "ANSWER"
        notifications.append(notification("Ответили", ringing))


def end_channel(event: Map, state: Map, notifications: list[Structure]) -> None:
    """КонецКанала."""
    uniqueid = field_value(event, "Uniqueid")
    key = state["Каналы"][uniqueid]
    if key is None:
        return
    del state["Каналы"][uniqueid]
    ringing = state["Звонки"][key]
    del ringing.Каналы[uniqueid]
    if len(ringing.Каналы) == 0:
        ringing.Причина = field_value(event, "Cause-txt")
        notifications.append(notification("Завершён", ringing))
        del state["Звонки"][key]


def reset_state(state: Map, reason: str, lost: int, notifications: list[Structure]) -> None:
    """СброситьСостояние."""
    notifications.append(Structure.new("Вид, Причина, Потеряно", "СобытияПотеряны", reason, lost))
    for element in state["Звонки"].values():
        element.Причина = reason
        notifications.append(notification("Завершён", element))
    state["Звонки"].clear()
    state["Каналы"].clear()


def notification(kind: str, ringing: Structure) -> Structure:
    """НовоеУведомление."""
    result = Structure.new("Вид", kind)
    for key, value in ringing.items():
        if key != "Каналы":
            result.Вставить(key, value)
    return result


def extension_of(channel: str) -> str:
    """ДобавочныйКанала."""
    position = str_find(channel, "/")
    if position == 0:
        return ""
    resource = mid(channel, position + 1)
    position = str_find(resource, ";", from_end=True)
    if position > 0:
        resource = left(resource, position - 1)
    position = str_find(resource, "-", from_end=True)
    if position > 0:
        resource = left(resource, position - 1)
    position = str_find(resource, "@")
    if position > 0:
        resource = left(resource, position - 1)
    return resource


def field_value(event: Map, name: str) -> str:
    """ЗначениеПоля."""
    value = event[name]
    if type_name(value) != "Строка" or value == "<unknown>":
        return ""
    text: str = value
    return text


def first_filled(event: Map, name1: str, name2: str, name3: str) -> str:
    """ПервоеЗаполненное."""
    for name in (name1 + "," + name2 + "," + name3).split(","):
        value = field_value(event, name)
        if not is_blank(value):
            return value
    return ""


# -- the history -----------------------------------------------------------------------


def to_structure(one: Map) -> Structure:
    """ВСтруктуру."""
    result = Structure()
    for key, value in one.items():
        if is_property_name(key):
            result.Вставить(key, value)
    return result


def is_property_name(name: str) -> bool:
    """ЭтоИмяСвойства."""
    if is_blank(name):
        return False
    for index in range(1, len(name) + 1):
        sign = mid(name, index, 1)
        letter = sign.upper() != sign.lower() or sign == "_"
        digit = str_find("0123456789", sign) > 0
        if not letter and not (digit and index > 1):
            return False
    return True
