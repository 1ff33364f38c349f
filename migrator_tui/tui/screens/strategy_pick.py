"""Pick a strategy from a list that shows what each one writes (Enter or its number picks it)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, OptionList
from textual.widgets.option_list import Option


class StrategyPickScreen(ModalScreen[str | None]):
    """Dismisses with the picked strategy's name, or None (Esc)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="strategy.cancel"),
        *(Binding(str(n), f"pick_number({n})", f"Pick {n}", id=f"strategy.pick{n}", show=False)
          for n in range(1, 10)),
    ]

    def __init__(self, title: str, choices: list[tuple[str, str]], current: str | None) -> None:
        """`choices` are (name, description) in the order `t` cycles through them."""
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.current_name = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-question")
            options = []
            for n, (name, description) in enumerate(self.choices, 1):
                prompt = Text()
                prompt.append(f"{n}  ", "bold")
                prompt.append(name, "bold" if name == self.current_name else "")
                if name == self.current_name:
                    prompt.append("  (current)", "dim")
                if description:
                    prompt.append(f"\n   {description}", "dim")
                options.append(Option(prompt, id=name))
            yield OptionList(*options, id="strategies")
            yield Label("Enter or 1–9 picks · Esc cancels", classes="dialog-help")
        yield Footer()

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        names = [name for name, _ in self.choices]
        if self.current_name in names:
            options.highlighted = names.index(self.current_name)
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_pick_number(self, n: int) -> None:
        if 1 <= n <= len(self.choices):
            self.dismiss(self.choices[n - 1][0])

    def action_cancel(self) -> None:
        self.dismiss(None)
