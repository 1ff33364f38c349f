"""Slow calls inside a block (network, subprocess, sleep): the facts behind `long-io-in-block`."""

from __future__ import annotations

import ast

from migrator_tui.rewrite.astutil import last_name

IO_CALLS = {
    "sleep": "time.sleep", "urlopen": "urlopen", "request": "HTTP request",
    "get": None, "post": None, "put": None, "delete": None, "patch": None,
    "run": None, "check_output": "subprocess", "check_call": "subprocess", "Popen": "subprocess",
    "call": None, "send_mail": "mail", "sendmail": "mail", "send_message": "mail",
}
IO_MODULES = {"requests", "httpx", "urllib", "subprocess", "socket", "smtplib", "time", "aiohttp"}


def io_call(call: ast.Call) -> str | None:
    name = last_name(call.func)
    root = call.func
    while isinstance(root, ast.Attribute):
        root = root.value
    root_name = root.id if isinstance(root, ast.Name) else None
    if name == "sleep":
        return "sleep()"
    if root_name in IO_MODULES and root_name != "time" and name:
        return f"{root_name}.{name}()"
    if name in {"urlopen", "check_output", "check_call", "Popen", "sendmail", "send_message"}:
        return f"{name}()"
    return None
