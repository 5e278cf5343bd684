"""The few 1C:Enterprise platform facilities the kit's module uses, in Python.

No 1C platform runs here.  ``tests/support/onec_twin.py`` mirrors
``clients/1c/AjamGateway.bsl`` routine by routine, with the same string
literals in the same order (``tests/e2e/onec/test_onec_kit.py`` compares them), and
these stand in for the platform under it: Структура and Соответствие (a
missing key reads Неопределено), the string functions (1-based, as 1C
counts), Формат, Base64Строка (which breaks lines), КодироватьСтроку,
HTTPСоединение over aiohttp with OpenSSL-style certificate checks,
ЧтениеJSON into maps, ХранилищеОбщихНастроек with transactions, the event
log and ``Выполнить`` of a common module's procedure.

This module also reads the BSL source: its routines and their literals.
"""

from __future__ import annotations

import base64
import copy
import json
import random
import re
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from aiohttp import ClientSession, ClientTimeout, DummyCookieJar

BSL_PATH: Final = Path(__file__).resolve().parents[2] / "clients" / "1c" / "AjamGateway.bsl"
CR: Final = "\r"  # Символы.ВК
LF: Final = "\n"  # Символы.ПС
NOTHING_SAFE: Final = ""
"""КодировкаURL leaves only letters, digits and ``-_.~`` as they are."""
BASE64_LINE: Final = 76
"""Base64Строка() breaks its result into lines of this many characters."""
USER_AGENT: Final = "1C+Enterprise/8.3"


class OnecError(Exception):
    """ВызватьИсключение; ``str()`` is ИнформацияОбОшибке().Описание."""


def description(error: BaseException) -> str:
    """ИнформацияОбОшибке().Описание of any failure (1C names the network ones too)."""
    return str(error) or type(error).__name__


def current_ms() -> int:
    """ТекущаяУниверсальнаяДатаВМиллисекундах()."""
    return int(time.time() * 1000)


class Structure(dict[str, Any]):
    """Структура: keys are properties; a property must exist to be assigned."""

    @classmethod
    def new(cls, keys: str, *values: Any) -> Structure:
        """Новый Структура("А, Б", 1, 2): missing values are Неопределено."""
        names = [name.strip() for name in keys.split(",")]
        return cls(zip(names, [*values, *[None] * (len(names) - len(values))], strict=True))

    def Вставить(self, key: str, value: Any) -> None:
        self[key] = value

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self:
            raise OnecError(f"Поле объекта не обнаружено ({name})")
        self[name] = value


class Map(dict[Any, Any]):
    """Соответствие: reading a missing key gives Неопределено (None)."""

    def __missing__(self, key: Any) -> None:
        return None


def type_name(value: object) -> str:
    """ТипЗнч() as the name Тип() takes."""
    if value is None:
        return "Неопределено"
    names = ((bool, "Булево"), (str, "Строка"), (int | float, "Число"), (Structure, "Структура"))
    for kind, name in names:
        if isinstance(value, kind):
            return name
    return "Соответствие" if isinstance(value, dict) else "Массив"


def string(value: object) -> str:
    """Строка(): Неопределено is the empty string."""
    return "" if value is None else str(value)


def is_blank(value: str) -> bool:
    """ПустаяСтрока()."""
    return not value.strip()


def str_find(text: str, part: str, *, from_end: bool = False) -> int:
    """СтрНайти(): 1-based, 0 when absent."""
    return (text.rfind(part) if from_end else text.find(part)) + 1


def mid(text: str, start: int, count: int | None = None) -> str:
    """Сред(): 1-based."""
    return text[start - 1 :] if count is None else text[start - 1 : start - 1 + count]


def left(text: str, count: int) -> str:
    """Лев()."""
    return text[:count]


def str_join(parts: list[str], separator: str) -> str:
    """СтрСоединить()."""
    return separator.join(parts)


def str_template(template: str, *values: str) -> str:
    """СтрШаблон() with %1 to %9."""
    return re.sub(r"%([1-9])", lambda m: values[int(m.group(1)) - 1], template)


def format_number(value: float, pattern: str) -> str:
    """Формат() for the one pattern the module uses: an integer, no grouping,
    zero written as 0."""
    assert pattern == "ЧДЦ=0; ЧН=0; ЧГ=0"
    return str(int(value + 0.5) if value >= 0 else -int(-value + 0.5))


def number(text: str) -> int:
    """Число() of a decimal string (a cursor, a count)."""
    return int(text.strip())


def url_encode(value: str) -> str:
    """КодироватьСтроку(..., СпособКодированияСтроки.КодировкаURL): UTF-8 bytes as %XX."""
    return quote(value, safe=NOTHING_SAFE)


def string_to_binary(text: str) -> bytes:
    """ПолучитьДвоичныеДанныеИзСтроки(Текст, КодировкаТекста.UTF8, Ложь): no BOM."""
    return text.encode("utf-8")


def base64_string(data: bytes) -> str:
    """Base64Строка(): lines of 76 characters joined by CR LF."""
    text = base64.b64encode(data).decode("ascii")
    lines = [text[i : i + BASE64_LINE] for i in range(0, len(text), BASE64_LINE)]
    return (CR + LF).join(lines)


def new_uuid() -> str:
    """Строка(Новый УникальныйИдентификатор)."""
    return str(uuid.uuid4())


# -- HTTP ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OsCertificates:
    """Новый СертификатыУдостоверяющихЦентровОС."""


@dataclass(frozen=True, slots=True)
class CertificateFile:
    """Новый СертификатыУдостоверяющихЦентровФайл(ИмяФайла)."""

    path: str


@dataclass(frozen=True, slots=True)
class OpenSsl:
    """Новый ЗащищенноеСоединениеOpenSSL(КлиентскийСертификат, Центры)."""

    client: None
    centers: OsCertificates | CertificateFile

    def context(self) -> ssl.SSLContext:
        """The server's chain and name are checked against these centres."""
        cafile = self.centers.path if isinstance(self.centers, CertificateFile) else None
        return ssl.create_default_context(cafile=cafile)


@dataclass(slots=True)
class HttpRequest:
    """Новый HTTPЗапрос(АдресРесурса, Заголовки)."""

    АдресРесурса: str
    Заголовки: Map
    body: bytes | None = None

    def УстановитьТелоИзСтроки(self, text: str) -> None:
        """КодировкаТекста.UTF8, ИспользованиеByteOrderMark.НеИспользовать."""
        self.body = text.encode("utf-8")


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """HTTPОтвет."""

    КодСостояния: int
    Заголовки: list[tuple[str, str]]
    body: bytes

    def ПолучитьТелоКакСтроку(self) -> str:
        return self.body.decode("utf-8", "replace")

    def ПолучитьТелоКакДвоичныеДанные(self) -> bytes:
        return self.body


@dataclass(frozen=True, slots=True)
class HttpConnection:
    """Новый HTTPСоединение(Хост, Порт, , , , Таймаут, ЗащищенноеСоединение).

    It keeps no cookies, as 1C's does not.  ``sent`` records every request
    as it went out (method, target, headers, body) for the tests.
    """

    host: str
    port: int
    timeout: float
    protection: OpenSsl | None
    sent: list[tuple[str, str, dict[str, str], bytes | None]] = field(default_factory=list)

    async def ВызватьHTTPМетод(self, method: str, request: HttpRequest) -> HttpResponse:
        scheme = "https" if self.protection is not None else "http"
        tls = self.protection.context() if self.protection is not None else False
        headers: dict[str, str] = {"User-Agent": USER_AGENT, **request.Заголовки}
        self.sent.append((method, request.АдресРесурса, headers, request.body))
        async with (
            ClientSession(
                f"{scheme}://{self.host}:{self.port}",
                cookie_jar=DummyCookieJar(),
                timeout=ClientTimeout(total=self.timeout),
            ) as http,
            http.request(
                method, request.АдресРесурса, headers=headers, data=request.body, ssl=tls
            ) as reply,
        ):
            body = await reply.read()
            return HttpResponse(reply.status, list(reply.headers.items()), body)


def read_json(text: str) -> Any:
    """ПрочитатьJSON(Чтение, Истина): objects become Соответствие."""
    return json.loads(text, object_pairs_hook=Map)


# -- the information base -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommonModule:
    """A common module as Метаданные.ОбщиеМодули shows it, with its procedures."""

    server: bool
    procedures: dict[str, Callable[[Any], None]]


@dataclass(slots=True)
class Platform:
    """What the module reaches outside itself: ХранилищеОбщихНастроек, the
    common modules, ЗаписьЖурналаРегистрации, transactions and Пауза."""

    sleep: Callable[[float], Awaitable[None]]
    """Пауза()."""
    chance: Callable[[], float] = random.random
    """ГенераторСлучайныхЧисел.СлучайноеЧисло(0, 1000) / 1000."""
    modules: dict[str, CommonModule] = field(default_factory=dict)
    store: dict[tuple[str, str], Any] = field(default_factory=dict)
    journal: list[tuple[str, str]] = field(default_factory=list)
    _snapshot: dict[tuple[str, str], Any] | None = None

    def load(self, object_key: str, settings_key: str) -> Any:
        """ХранилищеОбщихНастроек.Загрузить: a deserialised copy."""
        return copy.deepcopy(self.store.get((object_key, settings_key)))

    def save(self, object_key: str, settings_key: str, value: Any) -> None:
        self.store[object_key, settings_key] = copy.deepcopy(value)

    def begin(self) -> None:
        """НачатьТранзакцию()."""
        self._snapshot = copy.deepcopy(self.store)

    def commit(self) -> None:
        self._snapshot = None

    def rollback(self) -> None:
        assert self._snapshot is not None
        self.store, self._snapshot = self._snapshot, None

    def find_module(self, name: str) -> CommonModule | None:
        """Метаданные.ОбщиеМодули.Найти(Имя)."""
        return self.modules.get(name)

    def execute(self, code: str, argument: Any) -> None:
        """Выполнить("Модуль.Процедура(Уведомление)") with the local variable."""
        match = re.fullmatch(r"(\w+)\.(\w+)\(Уведомление\)", code)
        assert match is not None, code
        self.modules[match.group(1)].procedures[match.group(2)](argument)


# -- the BSL source -----------------------------------------------------------


def bsl_source() -> str:
    return BSL_PATH.read_text(encoding="utf-8")


def bsl_routines(source: str) -> dict[str, str]:
    """Every Функция/Процедура by name, its text from the header to its end."""
    pattern = re.compile(
        r"^(Функция|Процедура) (\w+)\(.*?^Конец(?:Функции|Процедуры)$", re.MULTILINE | re.DOTALL
    )
    return {m.group(2): m.group(0) for m in pattern.finditer(source)}


def bsl_literals(text: str) -> list[str]:
    """The string literals in BSL text, in order; ``""`` inside one is a quote.

    Comments (``//`` outside a literal, to the end of the line) are skipped.
    """
    literals: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        elif text[i] == '"':
            value, i = _literal(text, i + 1)
            literals.append(value)
        else:
            i += 1
    return literals


def _literal(text: str, i: int) -> tuple[str, int]:
    out: list[str] = []
    while True:
        if text[i] == '"' and text.startswith('""', i):
            out.append('"')
            i += 2
        elif text[i] == '"':
            return "".join(out), i + 1
        else:
            out.append(text[i])
            i += 1
