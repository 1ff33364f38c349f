"""Which target forms apply to an occurrence, and which one the recipe's rules pick by default."""

from __future__ import annotations

from migrator_tui.recipe import Recipe, Rule, Strategy, compile_glob
from migrator_tui.rewrite.plan import Facts


def applies(strategy: Strategy, facts: Facts) -> bool:
    """Whether `strategy` can express this occurrence at all."""
    if strategy.kind in ("service", "service_helper"):
        return facts.receiver_self and facts.class_name is not None
    if strategy.kind == "admin_route":
        return facts.in_function
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
