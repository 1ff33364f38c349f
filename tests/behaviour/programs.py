"""Small functions of the supported shapes, as values and as source text, and a hypothesis strategy.

A `Program` is one function (or one service method) that acquires a session with
`db_manager.get_session()` and releases it in one of the supported ways. It takes `(item_id, mode)`:
`mode == "early"` takes the early returns, `mode == "raise"` raises the domain `ValueError`.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

#: How the session is released: in a `finally` (optionally with an `audit()` call before or after the
#: close), by a `close()` statement after the body, never, or by the raw session's own `with`.
RELEASES = ("finally", "finally-audit-before", "finally-audit-after", "after", "none", "raw-with")
#: Where the acquire sits: before the `try`, inside it after `session = None`, or inside it unguarded.
ACQUIRES = ("plain", "guard", "in-try")
#: Statements of the body, after the object is loaded.
STEPS = ("count", "all", "add", "modify", "delete", "read", "commit", "early-obj", "early-none", "raise")
#: What the function returns.
RETURNS = ("none", "obj", "attr", "count", "query", "container", "rows")
#: Handler types: `""` is a bare `except:`.
CATCHES = ("Exception", "IntegrityError", "SQLAlchemyError", "ValueError", "")
#: What a caller in the same module catches around the call (`""`: there is no such caller, twice as
#: likely as each type).
CALLERS = ("", "", "ValueError", "IntegrityError", "SQLAlchemyError", "Exception")

STEP_CODE = {
    "count": ["count = session.query(Item).count()"],
    "all": ["rows = session.query(Item).all()"],
    "add": ['session.add(Item(name="new"))'],
    "modify": ['obj.name = "renamed"'],
    "delete": ["session.delete(obj)"],
    "read": ["seen = obj.name"],
    "commit": ["session.commit()"],
    "early-obj": ['if mode == "early":', "    return obj"],
    "early-none": ['if mode == "early":', "    return None"],
    "raise": ['if mode == "raise":', '    raise ValueError("rejected")'],
}
RETURN_CODE = {
    "obj": "return obj",
    "attr": "return obj.name",
    "count": "return count",
    "query": "return session.query(Item).count()",
    "container": 'return {"item": obj}',
    "rows": "return rows",
}
LOAD_CODE = {
    "get": "obj = session.get(Item, item_id)",
    "first": "obj = session.query(Item).filter_by(id=item_id).first()",
}


@dataclass(frozen=True)
class Handler:
    catches: str
    rollback: bool
    action: str  # "raise" (bare re-raise) or "return" (return "failed")
    audit: bool = False  # the handler also calls `audit("handler")`

    def lines(self) -> list[str]:
        head = f"except {self.catches} as exc:" if self.catches else "except:  # noqa: E722"
        body = ["session.rollback()"] if self.rollback else []
        if self.audit:
            body.append('audit("handler")')
        body.append("raise" if self.action == "raise" else 'return "failed"')
        return [head, *("    " + b for b in body)]


@dataclass(frozen=True)
class Program:
    method: bool  # a service method acquiring from `self.db_manager`
    view: bool  # decorated with `@app.route(...)`
    bound: bool  # the managers are imported at module level
    acquire: str
    guard_is_not_none: bool  # `if session is not None:` rather than `if session:`
    pre_plain: bool  # a statement before the acquire that does not use the session
    between: str  # "", "plain" or "session": a statement between the acquire and the `try`
    load: str
    body: tuple[str, ...]
    close_in_try: bool  # `session.close()` also at the end of the `try` body
    handlers: tuple[Handler, ...]
    release: str
    ret: str
    ret_after: bool  # the return statement follows the `try` (it runs after the close)
    orelse: bool = False  # the `try` has an `else: audit("else")` (it needs handlers)
    #: A caller in the same module, `entry(item_id, mode)`, catching this type around the call ("": none)
    caller: str = ""

    @property
    def tried(self) -> bool:
        return self.release.startswith("finally")

    def source(self) -> str:
        """The whole module's text."""
        names = ["app", "audit", "db_manager"]
        if self.bound:
            names += ["request_session_manager", "unified_session_manager"]
        head = [
            "from models import Item",
            "from sqlalchemy.exc import IntegrityError, SQLAlchemyError",
            f"from web_app import {', '.join(names)}",
            "",
            "",
        ]
        if self.method:
            head += ["class ItemService:", "    def __init__(self, db_manager):",
                     "        self.db_manager = db_manager", ""]
            fn = self.function_lines("self.db_manager", "def op(self, item_id, mode):")
            fn += self.caller_lines("def entry(self, item_id, mode):", "self.op")
            return "\n".join(head + ["    " + line if line else "" for line in fn]) + "\n"
        deco = ['@app.route("/items/<int:item_id>")'] if self.view else []
        fn = self.function_lines("db_manager", "def op(item_id, mode):")
        return "\n".join(head + deco + fn + self.caller_lines("def entry(item_id, mode):", "op")) + "\n"

    def caller_lines(self, signature: str, callee: str) -> list[str]:
        if not self.caller:
            return []
        return ["", "", signature, "    try:", f"        return {callee}(item_id, mode)",
                f"    except {self.caller}:", '        return "caught"']

    def function_lines(self, receiver: str, signature: str) -> list[str]:
        acquire = f"session = {receiver}.get_session()"
        out = [signature]
        ind = "    "
        if self.pre_plain:
            out.append(ind + 'prefix = f"item-{item_id}"')
        body = [LOAD_CODE[self.load]]
        for step in self.body:
            body += STEP_CODE[step]
        ret = [RETURN_CODE[self.ret]] if self.ret != "none" else []
        if self.release == "raw-with":
            out.append(ind + f"with {receiver}.get_session() as session:")
            out += [ind * 2 + b for b in body + ret]
            return out
        if not self.tried:
            out.append(ind + acquire)
            out += [ind + b for b in body]
            if self.release == "after":
                out.append(ind + "session.close()")
            out += [ind + r for r in ret]
            return out
        if self.acquire == "plain":
            out.append(ind + acquire)
            if self.between == "plain":
                out.append(ind + 'label = f"item-{item_id}"')
            elif self.between == "session":
                out.append(ind + "before = session.query(Item).count()")
        elif self.acquire == "guard":
            out.append(ind + "session = None")
        out.append(ind + "try:")
        if self.acquire != "plain":
            out.append(ind * 2 + acquire)
        out += [ind * 2 + b for b in body]
        if self.close_in_try:
            out.append(ind * 2 + "session.close()")
        if not self.ret_after:
            out += [ind * 2 + r for r in ret]
        for h in self.handlers:
            out += [ind + line for line in h.lines()]
        if self.orelse and self.handlers:
            out += [ind + "else:", ind * 2 + 'audit("else")']
        out.append(ind + "finally:")
        if self.release == "finally-audit-before":
            out.append(ind * 2 + 'audit("finally")')
        if self.acquire == "guard":
            out.append(ind * 2 + ("if session is not None:" if self.guard_is_not_none else "if session:"))
            out.append(ind * 3 + "session.close()")
        else:
            out.append(ind * 2 + "session.close()")
        if self.release == "finally-audit-after":
            out.append(ind * 2 + 'audit("finally")')
        if self.ret_after:
            out += [ind + r for r in ret]
        return out


@st.composite
def programs(draw: st.DrawFn) -> Program:
    """Functions of the supported shapes (every generated program compiles and runs)."""
    method = draw(st.booleans())
    release = draw(st.sampled_from(RELEASES))
    tried = release.startswith("finally")
    acquire = draw(st.sampled_from(ACQUIRES)) if tried else "plain"
    body = tuple(draw(st.lists(st.sampled_from(STEPS), max_size=5)))
    ret = draw(st.sampled_from(RETURNS))
    ret_after = tried and ret != "query" and draw(st.booleans())
    # the returned names must be bound on the paths that reach the return
    if ret == "count" and "count" not in body:
        body = (*body, "count")
    if ret == "rows" and "all" not in body:
        body = (*body, "all")
    handlers: tuple[Handler, ...] = ()
    if tried:
        handler = st.builds(Handler, st.sampled_from(CATCHES), st.booleans(),
                            st.sampled_from(("raise", "return")), st.booleans())
        drawn = draw(st.lists(handler, max_size=2, unique_by=lambda h: h.catches))
        handlers = tuple(sorted(drawn, key=lambda h: h.catches == ""))  # a bare `except:` comes last
    return Program(
        method=method,
        view=not method and draw(st.booleans()),
        bound=draw(st.booleans()),
        acquire=acquire,
        guard_is_not_none=draw(st.booleans()),
        pre_plain=draw(st.booleans()),
        between=draw(st.sampled_from(("", "plain", "session"))) if tried and acquire == "plain" else "",
        load=draw(st.sampled_from(tuple(LOAD_CODE))),
        body=body,
        close_in_try=tried and ret != "query" and draw(st.booleans()),
        handlers=handlers,
        release=release,
        ret=ret,
        ret_after=ret_after,
        orelse=bool(handlers) and draw(st.booleans()),
        caller=draw(st.sampled_from(CALLERS)),
    )
