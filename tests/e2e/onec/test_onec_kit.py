"""The 1C kit (clients/1c/AjamGateway.bsl) and its Python twin, kept in step.

No 1C platform runs here.  tests/support/onec_twin.py and tests/support/onec_recognizer.py
mirror every routine of the module with the same string literals in the
same order and the same calls to the module's other routines; the first
tests below check that against the .bsl text (so the module cannot change
without its twin), and do what checking a compiler would do that a regex
can: no code outside routines, balanced blocks, defined names, known
platform functions, known structure properties.  The rest runs the twin
against the simulator-backed gateway: click-to-call, its failures, Basic
credentials, and TLS verified against a test CA.
"""

from __future__ import annotations

import ast
import base64
import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import pytest
from aiohttp import web

from gateway.simulator import Simulator
from tests.support import onec_recognizer, onec_twin
from tests.support.certs import signed_by_test_ca
from tests.support.onec_gateway import PASSWORD, kit_app, kit_settings, serve
from tests.support.onec_platform import (
    Map,
    OnecError,
    Structure,
    base64_string,
    bsl_literals,
    bsl_routines,
    bsl_source,
    read_json,
)
from tests.support.onec_twin import (
    call,
    call_body,
    log_in,
    new_connection,
    parse_wait,
    perform,
    wait_events,
)
from tests.support.procs import free_port

GLUE: Final = {"Пауза": "platform.sleep"}
"""Routines the platform stands in for: Пауза is the job waiting for itself."""


def words(text: str) -> frozenset[str]:
    return frozenset(text.split())


PLATFORM: Final = words(
    # The global context functions the module calls (platform 8.3.13 and later).
    "Base64Строка Pow ВРег Выполнить ЗаписьЖурналаРегистрации ЗафиксироватьТранзакцию "
    "ИнформацияОбОшибке КодироватьСтроку Лев Мин НРег НачатьТранзакцию ОтменитьТранзакцию "
    "ПолучитьДвоичныеДанныеИзСтроки ПолучитьТекущийСеансИнформационнойБазы ПрочитатьJSON "
    "ПустаяСтрока СокрЛП Сред СтрДлина СтрЗаменить СтрНайти СтрНачинаетсяС СтрРазделить "
    "СтрСоединить СтрШаблон Строка ТекущаяУниверсальнаяДатаВМиллисекундах Тип ТипЗнч Формат Число"
)
TYPES: Final = words(
    # The types the module makes with Новый.
    "HTTPЗапрос HTTPСоединение ГенераторСлучайныхЧисел ЗащищенноеСоединениеOpenSSL Массив "
    "СертификатыУдостоверяющихЦентровОС СертификатыУдостоверяющихЦентровФайл Соответствие "
    "Структура УникальныйИдентификатор ЧтениеJSON"
)
KEYWORDS: Final = frozenset({"Не", "И", "Или"})
BLOCKS: Final = (("Если", "КонецЕсли"), ("Цикл", "КонецЦикла"), ("Попытка", "КонецПопытки"))


# -- the module and its twin ----------------------------------------------------------


def twins() -> dict[str, Callable[..., Any]]:
    """Each twin function by the BSL routine its docstring names."""
    found: dict[str, Callable[..., Any]] = {}
    for module in (onec_twin, onec_recognizer):
        for function in vars(module).values():
            if inspect.isfunction(function) and function.__module__ == module.__name__:
                found[(function.__doc__ or "").split(".")[0]] = function
    return found


ROUTINES: Final = bsl_routines(bsl_source())
TWINS: Final = twins()


def code_only(text: str) -> str:
    """BSL without comments, every literal emptied."""
    return re.sub(r'"(?:[^"]|"")*"|//[^\n]*', lambda m: '""' if m[0][0] == '"' else "", text)


def py_literals(function: Callable[..., Any]) -> list[str]:
    body = ast.parse(inspect.getsource(function)).body[0]
    assert isinstance(body, ast.FunctionDef | ast.AsyncFunctionDef)
    docstring = body.body[0]
    assert isinstance(docstring, ast.Expr)
    found = [
        (node.lineno, node.col_offset, node.value)
        for node in ast.walk(body)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node is not docstring.value
    ]
    return [value for *_, value in sorted(found)]


def bsl_calls(text: str) -> list[str]:
    body = code_only(text).split("\n", 1)[1]
    names = re.finditer(r"(?<![\w.])(\w+)\(", body)
    return [m.group(1) for m in names if m.group(1) in ROUTINES]


def py_calls(function: Callable[..., Any]) -> list[str]:
    routine = {twin.__name__: name for name, twin in TWINS.items()} | {
        glue: name for name, glue in GLUE.items()
    }
    found = []
    for node in ast.walk(ast.parse(inspect.getsource(function))):
        if isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            if name in routine:
                found.append((node.func.lineno, node.func.col_offset, routine[name]))
    return [name for *_, name in sorted(found)]


def test_every_routine_has_a_twin_or_is_platform_glue() -> None:
    assert len(ROUTINES) > 40
    assert set(ROUTINES) == set(TWINS) | set(GLUE)


@pytest.mark.parametrize("name", sorted(set(TWINS)))
def test_the_twin_has_the_routines_literals_and_calls(name: str) -> None:
    assert py_literals(TWINS[name]) == bsl_literals(ROUTINES[name])
    assert py_calls(TWINS[name]) == bsl_calls(ROUTINES[name])


def test_the_module_has_nothing_outside_its_routines() -> None:
    """A common module may not hold executable code outside procedures."""
    rest = bsl_source()
    for text in ROUTINES.values():
        rest = rest.replace(text, "")
    for line in rest.splitlines():
        assert re.fullmatch(r"\s*(//.*|#Область \w+|#КонецОбласти)?", line), line


def test_only_the_programming_interface_is_exported() -> None:
    source = bsl_source()
    public = source.split("#Область СлужебныеПроцедурыИФункции")[0]
    for name, text in ROUTINES.items():
        exported = text.split("\n", 1)[0].endswith(") Экспорт")
        assert exported == (text in public), name


@pytest.mark.parametrize("name", sorted(ROUTINES))
def test_blocks_close_and_conditions_end_in_then(name: str) -> None:
    code = code_only(ROUTINES[name])
    for opening, closing in BLOCKS:
        opened = len(re.findall(rf"(?<![\wА-Яа-яЁё]){opening}(?![\wА-Яа-яЁё])", code))
        assert opened == code.count(closing), (name, opening)
    for line in code.splitlines():
        if re.match(r"\s*(Если|ИначеЕсли|Пока) ", line):
            assert line.rstrip().endswith(("Тогда", "Цикл")), line
    last = code.split("\n", 1)[1].split(";")[-2].strip()
    if code.startswith("Функция"):
        assert last.startswith(("Возврат", "ВызватьИсключение")), name
    else:
        assert not re.search(r"Возврат\s*[^;\s]", code), name


def test_the_module_calls_only_known_routines_and_platform_functions() -> None:
    code = code_only(bsl_source())
    constructed = set(re.findall(r"(?<!\w)Новый (\w+)", code))
    assert constructed == TYPES
    called = set(re.findall(r"(?<![\w.])(\w+)\(", code)) - constructed - KEYWORDS
    assert called - set(ROUTINES) == PLATFORM


RESERVED: Final = words(
    "Если Тогда ИначеЕсли Иначе КонецЕсли Для Каждого Из По Пока Цикл КонецЦикла Процедура "
    "Функция КонецПроцедуры КонецФункции Перем Перейти Возврат Продолжить Прервать И Или Не "
    "Попытка Исключение ВызватьИсключение КонецПопытки Новый Выполнить Истина Ложь "
    "Неопределено Экспорт Знач"
)


GLOBALS: Final = words(
    # Global context properties and system enumerations the module reads.
    "КодировкаТекста Символы СпособКодированияСтроки ИспользованиеByteOrderMark "
    "УровеньЖурналаРегистрации НаправлениеПоиска ФоновыеЗадания ХранилищеОбщихНастроек "
    "Метаданные"
)


def local_names(text: str) -> set[str]:
    """A routine's parameters, assigned variables and loop variables."""
    header = re.match(r"\w+ \w+\((.*?)\)", text)
    assert header is not None
    parameters = {p.split("=")[0].replace("Знач ", "").strip() for p in header[1].split(",")}
    assigned = set(re.findall(r"(?m)^\s*(\w+) = ", code_only(text)))
    loops = set(re.findall(r"Для (?:Каждого )?(\w+) ", code_only(text)))
    return (parameters | assigned | loops) - {""}


@pytest.mark.parametrize("name", sorted(ROUTINES))
def test_every_name_is_defined_and_none_is_a_keyword(name: str) -> None:
    """``Новый = ...``, a variable named as one of the module's functions or a
    misspelt variable does not compile: a compiler would say so, a test must."""
    names = local_names(ROUTINES[name])
    assert not names & RESERVED
    assert not names & set(ROUTINES)
    body = code_only(ROUTINES[name]).split("\n", 1)[1]
    used = set(re.findall(r"(?<![\w.])([^\W\d]\w*)", body))
    known = names | set(ROUTINES) | PLATFORM | TYPES | RESERVED | GLOBALS | KEYWORDS
    assert used <= known, used - known


@pytest.mark.parametrize(
    ("variable", "made_by"),
    [
        ("Настройки", "НовыеНастройки"),
        ("Звонок", "НовыйЗвонок"),
        ("Сеанс", "СледитьЗаЗвонками"),
        ("Сохраненное", "ПрочитатьСохраненное"),
        ("Разбор", "РазобратьОжидание"),
    ],
)
def test_structure_properties_read_are_the_ones_made(variable: str, made_by: str) -> None:
    """A misspelt property is a runtime error in 1C: check them all."""
    made = {"Каналы"} if variable == "Звонок" else set()
    for literal in bsl_literals(ROUTINES[made_by]):
        made |= {name.strip() for name in literal.split(",") if re.fullmatch(r"\s*\w+", name)}
    used = set(re.findall(rf"(?<![\w.]){variable}\.(\w+)(?!\w|\()", code_only(bsl_source())))
    assert used, variable
    assert used <= made, used - made


# -- click-to-call against the gateway --------------------------------------------------


def originates(sim: Simulator) -> list[dict[str, str]]:
    return [dict(m.fields) for m in sim.received if m.get("Action") == "Originate"]


async def test_click_to_call_sends_this_and_gets_success(port: int, simulator: Simulator) -> None:
    settings = kit_settings(port)
    body = call_body(settings, "600", "+7 (912) 000-00-00", ' Иван\nПетров"<> ', "1c-42")
    assert body == (
        "action=Originate&Channel=Local%2F600%40test&Exten=%2B79120000000&Context=test"
        "&Priority=1&CallerID=%22%D0%98%D0%B2%D0%B0%D0%BD+%D0%9F%D0%B5%D1%82%D1%80%D0%BE%D0%B2"
        "%22+%3C%2B79120000000%3E&Timeout=30000&Async=true&ActionID=1c-42"
    )
    link = new_connection(settings, 5)
    answer = await perform(settings, link, "POST", "/json", body, True, None)
    assert answer.КодСостояния == 200
    [(method, target, headers, sent)] = link.sent
    assert (method, target, sent) == ("POST", "/asterisk/json", body.encode())
    assert headers == {
        "User-Agent": "1C+Enterprise/8.3",
        "Authorization": "Basic " + base64.b64encode(f"crm:{PASSWORD}".encode()).decode(),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    result = await call(settings, "600", "+7 (912) 000-00-00", "Иван Петров")
    assert result.Успех, result
    assert result.ТекстОшибки == ""
    assert re.fullmatch(r"1c-[0-9a-f-]{36}", result.ActionID)
    sent_to_ami = originates(simulator)[-1]
    assert sent_to_ami["ActionID"].endswith("|" + result.ActionID)
    expected = {
        "Channel": "Local/600@test",
        "Exten": "+79120000000",
        "Context": "test",
        "Priority": "1",
        "CallerID": '"Иван Петров" <+79120000000>',
        "Timeout": "30000",
        "Async": "true",
    }
    assert {k: sent_to_ami[k] for k in expected} == expected


async def test_click_to_call_failures_come_back_as_text(port: int, simulator: Simulator) -> None:
    reader = kit_settings(port, Пользователь="reader", Пароль="reader-secret")
    cases = [
        (kit_settings(port, Пароль="неверный"), "101", "Authentication failed"),
        (reader, "101", "Permission denied"),
        (kit_settings(port), "10 1", 'АджамШлюз: Добавочный оператора: недопустимый символ " "'),
        (kit_settings(port), "", "АджамШлюз: Добавочный оператора не задан"),
    ]
    for settings, operator, text in cases:
        result = await call(settings, operator, "79120000000")
        assert (result.Успех, result.ТекстОшибки) == (False, text)
    bad_number = await call(kit_settings(port), "101", "8-912-ABC")
    assert bad_number.ТекстОшибки == 'АджамШлюз: Номер клиента: недопустимый символ "A"'
    assert originates(simulator) == []
    closed = await call(kit_settings(free_port()), "101", "79120000000")
    assert not closed.Успех
    assert closed.ТекстОшибки


async def test_plain_http_only_to_localhost() -> None:
    for host in ("localhost", "127.0.0.1", "::1", "[::1]"):
        assert new_connection(kit_settings(1, Хост=host), 5).protection is None
    result = await call(kit_settings(1, Хост="ajam.example.com"), "101", "79120000000")
    assert result.ТекстОшибки == (
        "АджамШлюз: без TLS можно соединяться только с localhost: "
        "пароль передаётся в каждом запросе"
    )


async def test_a_long_password_survives_base64_line_breaks(simulator: Simulator) -> None:
    """Base64Строка() breaks lines every 76 characters; the header must not."""
    long_password = "длинный-пароль-" * 8
    user = {"secret": long_password, "read": "call", "write": "originate"}
    async with serve(kit_app(simulator, users={"long": user})) as bound:
        settings = kit_settings(bound, Пользователь="long", Пароль=long_password)
        assert "\r\n" in base64_string(f"long:{long_password}".encode())
        assert (await call(settings, "600", "100")).Успех


# -- TLS: the server's certificate is verified ------------------------------------------


async def test_tls_verifies_the_server_against_the_given_ca(
    simulator: Simulator, tmp_path: Path
) -> None:
    ca, cert = signed_by_test_ca(tmp_path)
    tls = cert.server_context()
    app: web.Application = kit_app(simulator)
    async with serve(app, tls=tls) as bound:
        trusted = kit_settings(bound, Хост="localhost", ЗащищенноеСоединение=True)
        trusted.ФайлСертификатовЦентров = str(ca)
        assert (await call(trusted, "600", "100")).Успех
        # Новый СертификатыУдостоверяющихЦентровОС: the system's CAs never signed it.
        system = kit_settings(bound, Хост="localhost", ЗащищенноеСоединение=True)
        refused = await call(system, "600", "100")
        assert not refused.Успех
        assert "CERTIFICATE_VERIFY_FAILED" in refused.ТекстОшибки
    assert len(originates(simulator)) == 1  # the refused one never reached Asterisk


async def test_the_loop_asks_for_its_extensions_and_its_cursor(port: int) -> None:
    settings = kit_settings(port, Добавочные=["100", "600"], ТаймаутОжидания=0)
    link = new_connection(settings, 5)
    session = Structure.new("Соединение, ВходОтклонен", link, False)
    session_id = await log_in(settings, session)
    await wait_events(settings, link, session_id, 123348210063104)
    target = link.sent[-1][1]
    assert target == (
        "/asterisk/json?action=WaitEvent&Timeout=0&cursor=123348210063104"
        f"&Extension=100%2C600&mansession_id={session_id}"
    )
    settings.Добавочные = None
    await wait_events(settings, link, session_id, None)
    assert link.sent[-1][1] == (
        f"/asterisk/json?action=WaitEvent&Timeout=0&cursor=&mansession_id={session_id}"
    )


def test_a_waitevent_answer_is_read_as_maps() -> None:
    """ПрочитатьJSON(Чтение, Истина): a missing key reads Неопределено, not an error."""
    lost = read_json('{"response": {"Response": "Error", "Message": "Permission denied"}}')
    assert isinstance(lost, Map)
    assert lost["session"] is None
    assert parse_wait(lost).СессияПотеряна
    with pytest.raises(OnecError, match=r"^ajam-gateway: WaitEvent: Invalid cursor$"):
        parse_wait(read_json('{"response": {"Response": "Error", "Message": "Invalid cursor"}}'))
    with pytest.raises(OnecError, match="нет Cursor"):
        parse_wait(read_json('{"response": {"Response": "Success"}, "events": []}'))
