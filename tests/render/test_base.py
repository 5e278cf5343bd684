"""The format registry, the options, render(), and which captures are not ours."""

from __future__ import annotations

import dataclasses

import pytest

from gateway.ami.message import Message
from gateway.render import DEFAULT_OPTIONS, FORMATS, Format, RenderOptions, render
from tests.support.renderdata import captured_replies

MESSAGES = [
    Message.of(("Response", "Success"), ("Message", "Waiting for Event completed.")),
    Message.of(("Event", "UserEvent"), ("Privilege", "user,all"), ("UserEvent", "A")),
    Message.of(("Event", "WaitEventComplete")),
]


def test_registry() -> None:
    assert sorted(FORMATS) == ["amanager", "json", "manager", "mxml", "rawman"]
    assert all(fmt.name == name for name, fmt in FORMATS.items())
    assert {fmt.content_type for fmt in FORMATS.values()} == {
        "text/plain; charset=utf-8",
        "text/xml; charset=utf-8",
        "text/html; charset=utf-8",
        "application/json; charset=utf-8",
    }
    with pytest.raises(TypeError):
        FORMATS["x"] = FORMATS["json"]  # type: ignore[index]


def test_options_are_frozen_with_asterisk_defaults() -> None:
    assert RenderOptions("unknown", "generic", None) == DEFAULT_OPTIONS
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_OPTIONS.session = "x"  # type: ignore[misc]


@pytest.mark.parametrize("fmt", list(FORMATS.values()), ids=lambda f: f.name)
def test_render_is_document_of_fragments(fmt: Format) -> None:
    opts = RenderOptions("d", "t", "s")
    fragments = [fmt.fragment(msg, opts) for msg in MESSAGES]
    assert render(fmt, MESSAGES, opts) == fmt.document(fragments, opts)
    assert all(fragments)


@pytest.mark.parametrize("fmt", list(FORMATS.values()), ids=lambda f: f.name)
def test_equal_cache_keys_mean_equal_fragments(fmt: Format) -> None:
    variants = [
        RenderOptions(),
        RenderOptions("", ""),
        RenderOptions("x", "y"),
        RenderOptions(session="s"),
    ]
    by_key: dict[str, list[bytes]] = {}
    for opts in variants:
        by_key.setdefault(fmt.cache_key(opts), []).append(fmt.fragment(MESSAGES[1], opts))
    assert all(len(set(group)) == 1 for group in by_key.values())


def test_cache_keys_differ_between_formats_whose_fragments_differ() -> None:
    keys = {fmt.cache_key(DEFAULT_OPTIONS): fmt for fmt in FORMATS.values()}
    assert len(keys) == 4  # manager and amanager share their rows
    fragments = {key: fmt.fragment(MESSAGES[1], DEFAULT_OPTIONS) for key, fmt in keys.items()}
    assert len(set(fragments.values())) == 4


def test_only_http_layer_pages_are_left_out_of_the_replays() -> None:
    """Every capture that is not a rendered reply, and why: none is a renderer's job."""
    replies, excluded = captured_replies()
    assert len(replies) == 325
    statuses = sorted(reason.split(" page")[0] for reason in excluded.values())
    assert statuses.count("HTTP 401") == 13  # digest challenges
    assert statuses.count("HTTP 404") == 9  # bad paths
    assert statuses.count("HTTP 400") == 3  # request line over 4 KB
    assert statuses.count("HTTP 501") == 2  # OPTIONS and PUT
    assert excluded["http_methods#1"] == "HEAD: headers only, no body"
    assert len(excluded) == 28
