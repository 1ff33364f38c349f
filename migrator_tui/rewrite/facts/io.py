"""Slow calls inside a block (network, subprocess, sleep): the facts behind `long-io-in-block`."""

from __future__ import annotations

import ast

from migrator_tui.rewrite.astutil import dotted, last_name

#: Calls that wait on the network, another process or the clock, by the module they come from.
IO_BY_MODULE = {
    "requests": {"get", "post", "put", "delete", "patch", "head", "options", "request"},
    "httpx": {"get", "post", "put", "delete", "patch", "head", "options", "request", "stream"},
    "urllib": {"urlopen", "urlretrieve"},
    "subprocess": {"run", "call", "check_call", "check_output", "Popen"},
    "socket": {"create_connection"},
    "smtplib": {"SMTP", "SMTP_SSL"},
    "time": {"sleep"},
}
#: Names that are slow whatever they are called on.
IO_NAMES = {"sleep", "urlopen", "check_output", "check_call", "sendmail", "send_message"}


def io_call(call: ast.Call) -> str | None:
    """`requests.get()`, `urllib.request.urlopen()`, `time.sleep()`: the slow call, or None
    (`urllib.request.Request(...)` only builds a value)."""
    name = last_name(call.func)
    if not name:
        return None
    root = call.func
    while isinstance(root, ast.Attribute):
        root = root.value
    root_name = root.id if isinstance(root, ast.Name) else None
    shown = dotted(call.func) or name
    if root_name in IO_BY_MODULE and name in IO_BY_MODULE[root_name] and shown != name:
        return f"{shown}()"
    if name in IO_NAMES:
        return f"{shown}()"
    return None
