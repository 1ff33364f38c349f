"""Which target forms apply to an occurrence, and which one the recipe's rules pick by default."""

from __future__ import annotations

from migrator_tui.recipe import RECEIVER_KINDS, Recipe, Rule, Strategy, compile_glob
from migrator_tui.rewrite.plan import Facts

FLASK_KINDS = ("admin_route", "service", "service_helper")


def unavailable(strategy: Strategy, facts: Facts) -> str | None:
    """Why the strategy's target cannot exist in this repository, or None."""
    if strategy.requires and strategy.requires in facts.unmet:
        return f"needs {strategy.requires}, but {facts.unmet[strategy.requires]}"
    modules = strategy.imported_modules()
    needs_flask = (strategy.kind in FLASK_KINDS or strategy.needs_app or strategy.needs_request
                   or "flask" in modules)
    if needs_flask and not facts.flask:
        return "needs Flask, which this repository never imports"
    own = facts.module.rsplit(".", 1)[-1] if facts.module else None
    if own in modules and strategy.manager not in facts.bound:
        return f"imports `{strategy.manager}` from this module itself, which does not define it"
    missing = sorted(m for m in modules - {"flask"} if m in facts.missing_modules)
    if missing and strategy.manager not in facts.bound:
        return f"imports from `{missing[0]}`, which is not in this repository"
    return None


def unavailable_summary(strategies: list[Strategy], facts: Facts) -> str:
    """`a and b need Flask, ...; c imports from ...`: the reasons, grouped."""
    by_reason: dict[str, list[str]] = {}
    for s in strategies:
        why = unavailable(s, facts)
        if why:
            by_reason.setdefault(why, []).append(s.name)
    parts = []
    for why, names in by_reason.items():
        who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        verb = why if len(names) == 1 else why.replace("needs ", "need ", 1).replace("imports ", "import ", 1)
        parts.append(f"{who} {verb}")
    return "; ".join(parts)


def applies(strategy: Strategy, facts: Facts) -> bool:
    """Whether `strategy` can express this occurrence at all."""
    if unavailable(strategy, facts):
        return False
    if strategy.kind in ("service", "service_helper"):
        return facts.receiver_self and facts.class_name is not None
    if strategy.kind == "admin_route":
        return facts.in_function
    if strategy.kind in RECEIVER_KINDS:  # `with <receiver>...`: no new name is used
        return True
    # `with <manager>...`: the name must not be a different local of the function
    return strategy.manager not in facts.locals


def _matches(rule: Rule, strategy: Strategy, facts: Facts, path: str) -> bool:
    if rule.paths and not any(compile_glob(g).match(path) for g in rule.paths):
        return False
    if rule.receiver_self is not None and facts.receiver_self != rule.receiver_self:
        return False
    if rule.decorators:
        names = {d.split("(", 1)[0].rsplit(".", 1)[-1] for d in facts.decorators}
        if not names & set(rule.decorators):
            return False
    if rule.reads and not set(rule.reads) & facts.reads:
        return False
    if rule.views is not None and facts.is_view != rule.views:
        return False
    return rule.bound is None or (strategy.manager in facts.bound) == rule.bound


def choose(recipe: Recipe, facts: Facts, path: str) -> tuple[str | None, tuple[str, ...]]:
    """The default strategy (first matching rule that applies) and the other applicable ones."""
    usable = [name for name, s in recipe.strategies.items() if applies(s, facts)]
    default = None
    for rule in recipe.rules:
        strategy = recipe.strategies[rule.strategy]
        if rule.strategy in usable and _matches(rule, strategy, facts, path):
            default = rule.strategy
            break
    if default is None and usable:
        default = usable[0]
    return default, tuple(n for n in usable if n != default)
