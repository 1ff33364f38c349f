"""Repository path <-> branch name: one reversible escaping rule (documented in docs/branches.md).

A file's branch is `<prefix>/<leaf>`, where `<leaf>` is the path with every `/` written as `__`
and everything that git forbids in a ref, or that would make the mapping ambiguous, written as
`%XX` (the byte in upper-case hex). Decoding splits the leaf on `__` and percent-decodes each
part, so two paths never share a branch: `decode_leaf(encode_leaf(p)) == p` for every path.

Rules, applied to the path's UTF-8 bytes (undecodable file names keep their bytes through
`surrogateescape`):

1. Kept as is: ASCII letters, digits, `-`, `.`, `+`, `,`, `=` and an *isolated interior* `_`
   (an underscore with a non-underscore on both sides inside its path component).
2. `/` (between components) becomes `__`. Because a kept `_` is never next to another `_` nor at
   either end of a component, `__` in a leaf always means `/`.
3. Every other byte becomes `%XX`: `%` itself, `_` runs and `_` at a component's edge, space,
   control characters, non-ASCII bytes, and git's forbidden `~ ^ : ? * [ \\ @ { }` and so on.
4. Context rules for a valid ref component: a `.` is escaped at the start of the leaf, right after
   another `.`, at the end of the leaf, and as the dot of a trailing `.lock` (any case); a `-` is
   escaped at the start of the leaf.
5. A leaf equal to a reserved name (the integration branch `all`) has its first byte escaped.
"""

from __future__ import annotations

import re

RESERVED_LEAVES: frozenset[str] = frozenset({"all"})
#: Longest leaf written (a loose ref file name is at most 255 bytes, and git appends `.lock`).
MAX_LEAF_BYTES = 250

_PLAIN = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.+,=")
_PCT = re.compile(r"%([0-9A-F]{2})")


def _esc(byte: int) -> str:
    return f"%{byte:02X}"


def _encode_component(comp: bytes) -> list[str]:
    out: list[str] = []
    n = len(comp)
    for i, b in enumerate(comp):
        if b == 0x5F:  # "_"
            isolated = 0 < i < n - 1 and comp[i - 1] != 0x5F and comp[i + 1] != 0x5F
            out.append("_" if isolated else _esc(b))
        elif b in _PLAIN:
            out.append(chr(b))
        else:
            out.append(_esc(b))
    return out


def encode_leaf(path: str, reserved: frozenset[str] = RESERVED_LEAVES) -> str:
    """The branch leaf for a repository-relative POSIX `path` (no leading `/`, no empty part)."""
    raw = path.encode("utf-8", "surrogateescape")
    parts = raw.split(b"/")
    if not raw or any(not p for p in parts):
        raise ValueError(f"not a repository-relative file path: {path!r}")
    tokens: list[str] = []
    for k, part in enumerate(parts):
        if k:
            tokens.append("__")
        tokens.extend(_encode_component(part))
    # Context rules on the token stream (each token is one plain char, an escape, or "__").
    for i, tok in enumerate(tokens):
        if tok == "." and (i == 0 or i == len(tokens) - 1 or tokens[i - 1] == "."):
            tokens[i] = _esc(0x2E)
        elif tok == "-" and i == 0:
            tokens[i] = _esc(0x2D)
    tail = "".join(tokens[-5:]) if len(tokens) >= 5 else ""
    if tail.lower() == ".lock" and all(len(t) == 1 for t in tokens[-5:]):
        tokens[-5] = _esc(0x2E)
    leaf = "".join(tokens)
    if leaf in reserved:
        leaf = _esc(ord(leaf[0])) + leaf[1:]
    return leaf


def decode_leaf(leaf: str) -> str:
    """The path a leaf came from (the inverse of `encode_leaf`)."""
    if not leaf or not leaf.isascii():
        raise ValueError(f"not an escaped branch leaf: {leaf!r}")
    parts = leaf.split("__")
    decoded = [_PCT.sub(lambda m: chr(int(m.group(1), 16)), p) for p in parts]
    raw = b"/".join(p.encode("latin-1") for p in decoded)
    return raw.decode("utf-8", "surrogateescape")


def branch_for(prefix: str, path: str) -> str:
    """The short branch name (`<prefix>/<leaf>`) of a file; raises ValueError if it is too long."""
    leaf = encode_leaf(path)
    if len(leaf) > MAX_LEAF_BYTES:
        raise ValueError(f"the branch name for {path!r} would be {len(leaf)} bytes, over {MAX_LEAF_BYTES}")
    return f"{prefix}/{leaf}"


def path_for(prefix: str, branch: str) -> str | None:
    """The file path of one of our per-file branches, or None if `branch` is not one."""
    head = prefix.rstrip("/") + "/"
    if branch.startswith("refs/heads/"):
        branch = branch[len("refs/heads/") :]
    if not branch.startswith(head):
        return None
    leaf = branch[len(head) :]
    if not leaf or "/" in leaf or leaf in RESERVED_LEAVES:
        return None
    try:
        path = decode_leaf(leaf)
    except ValueError:
        return None
    return path if encode_leaf(path) == leaf else None


def default_prefix(recipe: str) -> str:
    return f"migrate/{recipe}"


_REF_FORBIDDEN = frozenset(" ~^:?*[\\\x7f")


def ref_format_error(name: str) -> str | None:
    """Why `name` is not a valid ref name under git's rules (`git check-ref-format`), or None.

    The same rules as git, checked in process: no empty component, none starting with `.` or
    ending with `.lock`, no `..`, no control character (newline, NUL, ...), space, `~ ^ : ? * [ \\`
    nor DEL, no `@{`, not `@`, not ending with `/` or `.`. Git accepts more bytes than that
    (non-ASCII); the names we build never need them, so a non-ASCII name is refused too.
    """
    if not name:
        return "it is empty"
    if not name.isascii():
        return "it is not ASCII"
    if name == "@":
        return "it is `@`"
    bad = sorted({c for c in name if c in _REF_FORBIDDEN or ord(c) < 0x20})
    if bad:
        return f"it contains {', '.join(repr(c) for c in bad)}"
    if ".." in name:
        return "it contains `..`"
    if "@{" in name:
        return "it contains `@{`"
    if name.endswith("."):
        return "it ends with `.`"
    for part in name.split("/"):
        if not part:
            return "it has an empty component (a leading, trailing or doubled `/`)"
        if part.startswith("."):
            return f"its component {part!r} starts with `.`"
        if part.endswith(".lock"):
            return f"its component {part!r} ends with `.lock`"
    return None


def prefix_error(prefix: str) -> str | None:
    """Why `prefix` cannot hold per-file branches (`<prefix>/<leaf>`), or None."""
    why = ref_format_error(prefix)
    if why is None and prefix.startswith("-"):
        why = "it starts with `-`"
    if why is None and prefix.startswith("refs/"):
        why = "it starts with `refs/` (give the branch prefix, e.g. `migrate/x`)"
    if why is None and prefix in ("HEAD", "FETCH_HEAD", "ORIG_HEAD", "MERGE_HEAD"):
        why = f"it is `{prefix}`"
    return why
