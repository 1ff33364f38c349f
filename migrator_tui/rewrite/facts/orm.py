"""ORM objects leaving a block: values loaded from the session that are returned, stored or
read after it (the facts behind `orm-escape`)."""

from __future__ import annotations

import ast
from collections.abc import Callable

from migrator_tui.rewrite.astutil import last_name, method_call_on, quote, walk_local

NON_ORM_CALLS = {"count", "len", "int", "str", "bool", "float", "sum", "exists", "jsonify",
                 "render_template", "to_dict", "dict", "delete", "update", "isoformat", "format",
                 "join", "strftime", "redirect", "url_for", "make_response", "flash", "abort"}

#: calls that turn objects into plain values (`user_to_dict(u)`, `asdict(dto)`, `model_dump()`)
SERIALIZERS = {"asdict", "astuple", "model_dump", "dumps", "serialize", "to_json", "as_dict",
               "jsonable_encoder"}
SERIALIZER_SUFFIXES = ("_to_dict", "_as_dict", "_to_json")

#: `after(stmt, name)`: the first line reading `name` after `stmt`, or None.
After = Callable[[ast.stmt, str], int | None]
#: `locals_of(node)`: the local names of the function holding `node`.
LocalsOf = Callable[[ast.AST], set[str]]


_PLAIN_TYPES = frozenset({"int", "str", "bool", "float", "bytes", "complex", "Decimal", "None"})
_CONTAINERS = frozenset({"list", "List", "tuple", "Tuple", "set", "Set", "frozenset", "FrozenSet", "dict",
                         "Dict", "Optional", "Sequence", "Mapping", "Iterable", "Union"})


def plain_annotation(node: ast.expr | None) -> bool:
    """A return annotation that says the value holds no ORM object: `int`, `str | None`,
    `dict[str, int]`, `list[tuple[int, str]]` (a bare `dict` or `list` says nothing of its items)."""
    if node is None:
        return False
    if isinstance(node, ast.Constant):
        return node.value is None
    if isinstance(node, ast.Name):
        return node.id in _PLAIN_TYPES
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return plain_annotation(node.left) and plain_annotation(node.right)
    if isinstance(node, ast.Subscript):
        base = node.value.attr if isinstance(node.value, ast.Attribute) else getattr(node.value, "id", "")
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        return base in _CONTAINERS and all(
            plain_annotation(i) or (isinstance(i, ast.Constant) and i.value is Ellipsis) for i in items)
    return False


def orm_escapes(body: list[ast.stmt], last: ast.stmt, var: str, after: After,
                locals_of: LocalsOf, relations: frozenset[str] = frozenset(),
                returns_plain: bool = False) -> list[tuple[int, str]]:
    """Values loaded from the session (ORM objects) that leave the block. `returns_plain`: the
    function's return annotation says its value holds none (`-> int`, `-> dict[str, str]`)."""
    tainted: set[str] = set()
    for n in walk_local(body):
        if isinstance(n, (ast.Assign, ast.AnnAssign)) and n.value is not None:
            if may_be_orm(n.value, var, tainted, relations):
                targets = n.targets if isinstance(n, ast.Assign) else [n.target]
                for t in targets:
                    tainted.update(x.id for x in ast.walk(t) if isinstance(x, ast.Name))
        elif isinstance(n, (ast.For, ast.AsyncFor)) and may_be_orm(n.iter, var, tainted, relations):
            tainted.update(x.id for x in ast.walk(n.target) if isinstance(x, ast.Name))
        elif isinstance(n, ast.Call) and method_call_on(n, var, {"add", "add_all", "merge"}):
            for arg in n.args:  # `session.add(obj)`: obj is now the session's
                if isinstance(arg, ast.Name):
                    tainted.add(arg.id)
                elif isinstance(arg, (ast.List, ast.Tuple, ast.Set)):
                    tainted.update(e.id for e in arg.elts if isinstance(e, ast.Name))
        if isinstance(n, ast.Assign) and may_be_orm(n.value, var, tainted, relations):
            for t in n.targets:
                if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name):
                    tainted.add(t.value.id)  # a local container now holds loaded objects
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in {
            "append", "extend", "add", "update", "insert", "setdefault"
        } and isinstance(n.func.value, ast.Name) and n.func.value.id != var and any(
            may_be_orm(a, var, tainted, relations) for a in n.args
        ):
            tainted.add(n.func.value.id)
    tainted.discard(var)
    out: list[tuple[int, str]] = []
    for n in walk_local(body):
        if isinstance(n, (ast.Return, ast.Yield, ast.YieldFrom)) and n.value is not None:
            if isinstance(n, ast.Return) and returns_plain:
                continue
            if may_be_orm(n.value, var, tainted, relations):
                verb = "returned" if isinstance(n, ast.Return) else "yielded"
                out.append((n.lineno, f"`{quote(n.value, 40)}` is {verb}"))
        elif isinstance(n, ast.Assign) and may_be_orm(n.value, var, tainted, relations):
            for t in n.targets:
                root = t
                while isinstance(root, (ast.Attribute, ast.Subscript)):
                    root = root.value
                outside = isinstance(root, ast.Name) and root is not t and (
                    root.id in {"self", "cls", "g"} or root.id not in locals_of(last))
                if outside:
                    out.append((n.lineno, f"`{quote(n.value, 40)}` is stored in "
                                          f"`{ast.unparse(t)}`"))
    for name in sorted(tainted):
        line = after(last, name)
        if line is not None:
            out.append((line, f"`{name}` is read after the block"))
    return out


def column_query(call: ast.Call) -> bool:
    """`session.query(Model.col, ...)` / `select(Model.col)`: rows of plain values, not objects."""
    return last_name(call.func) in {"query", "select"} and bool(call.args) and all(
        isinstance(a, ast.Attribute)
        or (isinstance(a, ast.Call) and last_name(a.func) in {"count", "sum", "max", "min"})
        for a in call.args
    )


def may_be_orm(expr: ast.AST, var: str, tainted: set[str], relations: frozenset[str] = frozenset()) -> bool:
    """Whether `expr` may evaluate to ORM objects loaded from `var` (or containers of them).

    Deliberately simple: attribute reads, comparisons, arithmetic, strings and calls known to
    return plain values are not objects; calls on the session (or on loaded objects) are, and so
    is an attribute of a loaded object that a model of the repository declares a `relationship()`
    (`{"user": user_session.user}`).
    """
    if isinstance(expr, ast.Name):
        return expr.id in tainted
    if isinstance(expr, ast.Attribute) and expr.attr in relations:
        return may_be_orm(expr.value, var, tainted, relations)
    if isinstance(expr, ast.Call):
        called = last_name(expr.func) or ""
        if called in NON_ORM_CALLS or called in SERIALIZERS or called.endswith(SERIALIZER_SUFFIXES):
            return False
        inner = [n for n in ast.walk(expr.func) if isinstance(n, ast.Call)]
        if any(column_query(c) for c in [expr, *inner]):
            return False
        root = expr.func
        while isinstance(root, (ast.Attribute, ast.Subscript, ast.Call)):
            root = root.func if isinstance(root, ast.Call) else root.value
        if isinstance(root, ast.Name) and (root.id == var or root.id in tainted):
            return True
        # a call handed loaded objects may keep them (`UserDTO(user=u)`, `Result(u)`)
        values = [*expr.args, *(k.value for k in expr.keywords)]
        return any(may_be_orm(a, var, tainted, relations) for a in values)
    if isinstance(expr, ast.Await):
        return may_be_orm(expr.value, var, tainted, relations)
    if isinstance(expr, (ast.Subscript, ast.Starred)):
        return may_be_orm(expr.value, var, tainted, relations)
    if isinstance(expr, (ast.Tuple, ast.List, ast.Set)):
        return any(may_be_orm(e, var, tainted, relations) for e in expr.elts)
    if isinstance(expr, ast.Dict):
        return any(v is not None and may_be_orm(v, var, tainted, relations) for v in expr.values)
    if isinstance(expr, ast.IfExp):
        return (may_be_orm(expr.body, var, tainted, relations)
                or may_be_orm(expr.orelse, var, tainted, relations))
    if isinstance(expr, ast.BoolOp):
        return any(may_be_orm(e, var, tainted, relations) for e in expr.values)
    if isinstance(expr, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
        local = set(tainted)
        for g in expr.generators:
            if may_be_orm(g.iter, var, local, relations):
                local.update(x.id for x in ast.walk(g.target) if isinstance(x, ast.Name))
        elt = expr.value if isinstance(expr, ast.DictComp) else expr.elt
        return may_be_orm(elt, var, local, relations)
    return False
