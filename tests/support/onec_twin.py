"""The Python twin of clients/1c/AjamGateway.bsl (the common module АджамШлюз).

Each function mirrors the BSL routine its docstring names, statement by
statement, with the same string literals in the same order, and
tests/e2e/onec/test_onec_kit.py checks exactly that against the .bsl: what the tests
send is what the module sends.  Structures keep the module's Russian
property names, so a notification here is the Структура 1C gets.  The
platform under it (Структура, Соответствие, HTTPСоединение, the settings
storage, ...) is tests/support/onec_platform.py.
"""

from __future__ import annotations

from typing import Any

from tests.support.onec_platform import (
    CR,
    LF,
    CertificateFile,
    HttpConnection,
    HttpRequest,
    HttpResponse,
    Map,
    OnecError,
    OpenSsl,
    OsCertificates,
    Platform,
    Structure,
    base64_string,
    current_ms,
    description,
    format_number,
    is_blank,
    left,
    mid,
    new_uuid,
    number,
    read_json,
    str_find,
    str_join,
    str_template,
    string,
    string_to_binary,
    type_name,
    url_encode,
)
from tests.support.onec_recognizer import new_state, recognize, to_structure

# -- the public interface -------------------------------------------------------


def new_settings(host: str, user: str, password: str) -> Structure:
    """НовыеНастройки."""
    settings = Structure()
    settings.Вставить("Хост", host)
    settings.Вставить("Порт", 443)
    settings.Вставить("ЗащищенноеСоединение", True)
    settings.Вставить("ФайлСертификатовЦентров", "")
    settings.Вставить("Пользователь", user)
    settings.Вставить("Пароль", password)
    settings.Вставить("Префикс", "/asterisk")
    settings.Вставить("Таймаут", 15)
    settings.Вставить("ТаймаутОжидания", 20)
    settings.Вставить("ШаблонКанала", "PJSIP/%1")
    settings.Вставить("Контекст", "from-internal")
    settings.Вставить("ВремяВызоваОператора", 30)
    settings.Вставить("Добавочные", None)
    settings.Вставить("КлючХранения", "АджамШлюз")
    settings.Вставить("ПаузаМин", 1)
    settings.Вставить("ПаузаМакс", 60)
    settings.Вставить("ДлительностьСекунд", 0)
    return settings


async def call(settings: Structure, operator: str, number: str, client_name: str = "") -> Structure:
    """Позвонить."""
    action_id = "1c-" + new_uuid()
    result = Structure.new("Успех, ТекстОшибки, ActionID", False, "", action_id)
    try:
        body = call_body(settings, operator, number, client_name, action_id)
        link = new_connection(settings, settings.Таймаут)
        answer = await request_json(settings, link, "POST", "/json", body, True)
    except Exception as error:
        result.ТекстОшибки = description(error)
        return result
    outcome = answer["response"]
    if type_name(outcome) != "Соответствие":
        result.ТекстОшибки = "ajam-gateway: пустой ответ на Originate"
    elif outcome["Response"] == "Success":
        result.Успех = True
    else:
        result.ТекстОшибки = string(outcome["Message"])
    return result


async def watch(platform: Platform, settings: Structure, handler_module: str) -> None:
    """СледитьЗаЗвонками.  Cancelling the task is ФоновоеЗадание.Отменить()."""
    check_handler(platform, handler_module)
    deadline = 0
    if settings.ДлительностьСекунд > 0:
        deadline = current_ms() + settings.ДлительностьСекунд * 1000
    session = Structure.new(
        "ИдСессии, Соединение, Сохраненное, Неудач, ВходОтклонен", None, None, None, 0, False
    )
    while deadline == 0 or current_ms() < deadline:
        try:
            await watch_step(platform, settings, session, handler_module)
            session.Неудач = 0
        except Exception as error:
            platform.journal.append(("АджамШлюз", description(error)))
            if session.ВходОтклонен:
                raise
            session.Сохраненное = None
            session.Соединение = None
            session.Неудач = session.Неудач + 1
            await platform.sleep(pause_after_failure(settings, session.Неудач, platform.chance()))


async def history(settings: Structure, client_number: str, count: int = 20) -> list[Structure]:
    """ИсторияЗвонков."""
    path = "/history?number=" + form(client_number) + "&limit=" + number_text(count)
    link = new_connection(settings, settings.Таймаут)
    answer = await perform(settings, link, "GET", path, None, True, None)
    if answer.КодСостояния != 200:
        raise OnecError(http_error_text(answer, "/history"))
    data = read_json_answer(answer)
    calls: list[Structure] = []
    for one in data["calls"]:
        calls.append(to_structure(one))
    return calls


def recording_url(settings: Structure, uniqueid: str) -> str:
    """АдресЗаписи."""
    scheme = "https://" if settings.ЗащищенноеСоединение else "http://"
    url: str = (
        scheme
        + settings.Хост
        + ":"
        + number_text(settings.Порт)
        + settings.Префикс
        + "/recording?uniqueid="
        + form(uniqueid)
    )
    return url


async def get_recording(
    settings: Structure, uniqueid: str, first: int | None = None, last: int | None = None
) -> Structure | None:
    """ПолучитьЗапись."""
    headers = Map()
    if first is not None:
        headers["Range"] = (
            "bytes=" + number_text(first) + "-" + ("" if last is None else number_text(last))
        )
    path = "/recording?uniqueid=" + form(uniqueid)
    link = new_connection(settings, settings.Таймаут)
    answer = await perform(settings, link, "GET", path, None, True, headers)
    if answer.КодСостояния == 404:
        return None
    if answer.КодСостояния != 200 and answer.КодСостояния != 206:
        raise OnecError(http_error_text(answer, "/recording"))
    return Structure.new(
        "Данные, ТипСодержимого, Диапазон",
        answer.ПолучитьТелоКакДвоичныеДанные(),
        header_value(answer, "Content-Type"),
        header_value(answer, "Content-Range"),
    )


# -- the connection ----------------------------------------------------------------


def new_connection(settings: Structure, timeout: float) -> HttpConnection:
    """НовоеСоединение."""
    protection: OpenSsl | None
    if settings.ЗащищенноеСоединение:
        centers: OsCertificates | CertificateFile
        if is_blank(settings.ФайлСертификатовЦентров):
            centers = OsCertificates()
        else:
            centers = CertificateFile(settings.ФайлСертификатовЦентров)
        protection = OpenSsl(None, centers)
    elif is_local_host(settings.Хост):
        protection = None
    else:
        raise OnecError(
            "АджамШлюз: без TLS можно соединяться только с localhost: "
            + "пароль передаётся в каждом запросе"
        )
    return HttpConnection(settings.Хост, settings.Порт, timeout, protection)


def is_local_host(host: str) -> bool:
    """ЭтоЛокальныйХост."""
    return host == "localhost" or host == "127.0.0.1" or host == "::1" or host == "[::1]"


def auth_header(settings: Structure) -> str:
    """ЗаголовокАвторизации."""
    data = string_to_binary(settings.Пользователь + ":" + settings.Пароль)
    token = base64_string(data).replace(CR, "").replace(LF, "")
    return "Basic " + token


async def perform(
    settings: Structure,
    link: HttpConnection,
    method: str,
    path: str,
    body: str | None,
    authorize: bool,
    extra: Map | None,
) -> HttpResponse:
    """ВыполнитьЗапрос."""
    headers = Map()
    if authorize:
        headers["Authorization"] = auth_header(settings)
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if extra is not None:
        for key, value in extra.items():
            headers[key] = value
    request = HttpRequest(settings.Префикс + path, headers)
    if body is not None:
        request.УстановитьТелоИзСтроки(body)
    return await link.ВызватьHTTPМетод(method, request)


async def request_json(
    settings: Structure,
    link: HttpConnection,
    method: str,
    path: str,
    body: str | None,
    authorize: bool,
) -> Any:
    """ЗапросJSON."""
    answer = await perform(settings, link, method, path, body, authorize, None)
    if answer.КодСостояния != 200:
        raise OnecError(http_error_text(answer, "/json"))
    return read_json_answer(answer)


def read_json_answer(answer: HttpResponse) -> Any:
    """ПрочитатьJSONОтвета."""
    return read_json(answer.ПолучитьТелоКакСтроку())


def http_error_text(answer: HttpResponse, path: str) -> str:
    """ТекстОшибкиHTTP."""
    text: str = "ajam-gateway " + path + ": HTTP " + number_text(answer.КодСостояния)
    if str_find(header_value(answer, "Content-Type").lower(), "application/json") > 0:
        error = read_json_answer(answer)
        if type_name(error) == "Соответствие" and type_name(error["error"]) == "Строка":
            text = text + ": " + error["error"]
            if type_name(error["field"]) == "Строка":
                text = text + " (поле " + error["field"] + ")"
            return text
    body = answer.ПолучитьТелоКакСтроку().strip()
    if is_blank(body):
        return text
    return text + ": " + left(body, 200)


def header_value(answer: HttpResponse, name: str) -> str:
    """ЗначениеЗаголовка."""
    for key, value in answer.Заголовки:
        if key.lower() == name.lower():
            return value
    return ""


def form(value: str) -> str:
    """ВФорму."""
    return url_encode(value).replace("%20", "+")


def number_text(value: float) -> str:
    """ЧислоВСтроку."""
    return format_number(value, "ЧДЦ=0; ЧН=0; ЧГ=0")


# -- click-to-call -------------------------------------------------------------------


def call_body(
    settings: Structure, operator: str, number: str, client_name: str, action_id: str
) -> str:
    """ТелоЗвонка."""
    check_chars(operator, extension_chars(), "Добавочный оператора")
    client_number = clean_number(number)
    channel = str_template(settings.ШаблонКанала, operator)
    return (
        "action=Originate"
        + "&Channel="
        + form(channel)
        + "&Exten="
        + form(client_number)
        + "&Context="
        + form(settings.Контекст)
        + "&Priority=1"
        + "&CallerID="
        + form(caller_id(client_name, client_number))
        + "&Timeout="
        + number_text(settings.ВремяВызоваОператора * 1000)
        + "&Async=true"
        + "&ActionID="
        + form(action_id)
    )


def caller_id(client_name: str, client_number: str) -> str:
    """ИдентификаторЗвонящего."""
    name = client_name.replace('"', "").replace("<", "").replace(">", "")
    name = name.replace(CR, " ").replace(LF, " ").strip()
    if is_blank(name):
        return "<" + client_number + ">"
    return '"' + name + '" <' + client_number + ">"


def clean_number(number: str) -> str:
    """ОчиститьНомер."""
    result = number
    for separator in " ,(,),-,.".split(","):  # noqa: SIM905 - СтрРазделить, as in the BSL
        result = result.replace(separator, "")
    check_chars(result, "0123456789+*#", "Номер клиента")
    return result


def extension_chars() -> str:
    """СимволыДобавочного."""
    return "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-"


def check_chars(value: str, allowed: str, what: str) -> None:
    """ПроверитьСимволы."""
    if type_name(value) != "Строка" or is_blank(value):
        raise OnecError("АджамШлюз: " + what + " не задан")
    for index in range(1, len(value) + 1):
        if str_find(allowed, mid(value, index, 1)) == 0:
            raise OnecError(
                "АджамШлюз: " + what + ': недопустимый символ "' + mid(value, index, 1) + '"'
            )


# -- the event loop --------------------------------------------------------------------


async def watch_step(
    platform: Platform, settings: Structure, session: Structure, module: str
) -> None:
    """ШагНаблюдения."""
    if session.Сохраненное is None:
        session.Сохраненное = load_saved(platform, settings)
    saved = session.Сохраненное
    if session.Соединение is None:
        session.Соединение = new_connection(settings, settings.ТаймаутОжидания + settings.Таймаут)
    new_session = session.ИдСессии is None
    if new_session:
        session.ИдСессии = await log_in(settings, session)
    answer = await wait_events(settings, session.Соединение, session.ИдСессии, saved.Курсор)
    parsed = parse_wait(answer)
    if parsed.СессияПотеряна:
        session.ИдСессии = None
        if new_session:
            raise OnecError("ajam-gateway: новая сессия не принята")
        return
    notifications: list[Structure] = []
    cursor = parsed.Курсор
    for event in parsed.События:
        for notice in recognize(event, saved.Состояние, settings.Добавочные):
            notifications.append(notice)
    if len(notifications) == 0 and cursor == saved.Курсор:
        return
    log_losses(platform, notifications)
    platform.begin()
    try:
        for notice in notifications:
            call_handler(platform, module, notice)
        saved.Курсор = cursor
        save_saved(platform, settings, saved)
        platform.commit()
    except Exception:
        platform.rollback()
        raise


def log_losses(platform: Platform, notifications: list[Structure]) -> None:
    """ЗаписатьПотери."""
    for notice in notifications:
        if notice.Вид == "СобытияПотеряны":
            platform.journal.append(
                (
                    "АджамШлюз",
                    "События потеряны: " + notice.Причина + ", " + number_text(notice.Потеряно),
                )
            )


async def log_in(settings: Structure, session: Structure) -> str:
    """Войти."""
    path = "/json?action=Login&Events=call,agent,system"
    answer = await request_json(settings, session.Соединение, "GET", path, None, True)
    outcome = answer["response"]
    if type_name(outcome) == "Соответствие" and outcome["Response"] == "Success":
        return str(answer["session"])
    session.ВходОтклонен = True
    reason = ""
    if type_name(outcome) == "Соответствие":
        reason = string(outcome["Message"])
    raise OnecError("ajam-gateway: вход отклонён: " + reason)


async def wait_events(
    settings: Structure, link: HttpConnection, session_id: str, cursor: int | None
) -> Any:
    """ЖдатьСобытия."""
    path = (
        "/json?action=WaitEvent&Timeout="
        + number_text(settings.ТаймаутОжидания)
        + "&cursor="
        + ("" if cursor is None else number_text(cursor))
        + extensions_parameter(settings.Добавочные)
        + "&mansession_id="
        + form(session_id)
    )
    return await request_json(settings, link, "GET", path, None, False)


def extensions_parameter(extensions: list[str] | None) -> str:
    """ПараметрДобавочных."""
    if extensions is None:
        return ""
    return "&Extension=" + form(str_join(extensions, ","))


def parse_wait(answer: Any) -> Structure:
    """РазобратьОжидание."""
    result = Structure.new("СессияПотеряна, События, Курсор", False, [], None)
    outcome = answer["response"]
    if type_name(outcome) != "Соответствие":
        raise OnecError("ajam-gateway: пустой ответ на WaitEvent")
    if outcome["Response"] != "Success":
        if outcome["Message"] == "Permission denied":
            result.СессияПотеряна = True
            return result
        raise OnecError("ajam-gateway: WaitEvent: " + string(outcome["Message"]))
    for event in answer["events"]:
        if event["Event"] == "WaitEventComplete":
            result.Курсор = number(event["Cursor"])
        else:
            result.События.append(event)
    if result.Курсор is None:
        raise OnecError("ajam-gateway: в ответе WaitEvent нет Cursor")
    return result


def pause_after_failure(settings: Structure, failures: int, chance: float) -> float:
    """ПаузаПослеНеудачи."""
    seconds: float = min(settings.ПаузаМакс, settings.ПаузаМин * 2 ** min(failures - 1, 30))
    return seconds / 2 + seconds / 2 * chance


def load_saved(platform: Platform, settings: Structure) -> Structure:
    """ПрочитатьСохраненное."""
    saved = platform.load("АджамШлюз", settings.КлючХранения)
    if type_name(saved) != "Структура":
        saved = Structure.new("Курсор, Состояние", None, new_state())
    loaded: Structure = saved
    return loaded


def save_saved(platform: Platform, settings: Structure, saved: Structure) -> None:
    """ЗаписатьСохраненное."""
    platform.save("АджамШлюз", settings.КлючХранения, saved)


def check_handler(platform: Platform, module_name: str) -> None:
    """ПроверитьМодульОбработчика."""
    module = None
    if type_name(module_name) == "Строка":
        module = platform.find_module(module_name)
    if module is None or not module.server:
        raise OnecError('АджамШлюз: нет серверного общего модуля "' + string(module_name) + '"')


def call_handler(platform: Platform, module: str, notice: Structure) -> None:
    """ВызватьОбработчик."""
    platform.execute(module + ".ПриУведомленииОЗвонке(Уведомление)", notice)
