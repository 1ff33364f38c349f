"""The occurrence tree: phase → file → occurrence, or cluster → occurrence (the cluster view).

Node data is a `NodeRef`; labels come from above."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

#: Above this many occurrences, files start collapsed (they open as the review reaches them).
EXPAND_ALL_LIMIT = 2000


@dataclass(frozen=True, slots=True)
class NodeRef:
    """What a tree node stands for: kind is "phase", "file", "cluster", "singles" (occurrences in
    no cluster) or "occurrence"; key its identity."""

    kind: str
    key: str


class OccurrenceTree(Tree[NodeRef]):
    """Every occurrence of the review, grouped by phase and file."""

    DEFAULT_CSS = """
    OccurrenceTree { scrollbar-size-vertical: 1; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("Occurrences", id=id, classes=classes)
        self.show_root = False
        self.auto_expand = False
        self.guide_depth = 2
        self.nodes: dict[tuple[str, str], TreeNode[NodeRef]] = {}

    def on_tree_node_selected(self, event: Tree.NodeSelected[NodeRef]) -> None:
        """Enter opens or closes a phase, a file or a cluster, as Space does."""
        if event.node.allow_expand:
            event.node.toggle()

    def populate(
        self,
        groups: list[tuple[str, Text, list[tuple[str, Text, list[tuple[str, Text]]]]]],
        total: int,
    ) -> None:
        """Replace the content: `groups` is [(phase key, label, [(path, label, [(occ id, label)])])]."""
        self.clear()
        self.nodes = {}
        expand_files = total <= EXPAND_ALL_LIMIT
        for phase_key, phase_text, files in groups:
            phase_node = self.root.add(phase_text, NodeRef("phase", phase_key), expand=True)
            self.nodes[("phase", phase_key)] = phase_node
            for path, file_text, occs in files:
                file_node = phase_node.add(file_text, NodeRef("file", path), expand=expand_files)
                self.nodes[("file", path)] = file_node
                for occ_id, occ_text in occs:
                    self.nodes[("occurrence", occ_id)] = file_node.add_leaf(
                        occ_text, NodeRef("occurrence", occ_id)
                    )

    def populate_clusters(self, groups: list[tuple[NodeRef, Text, list[tuple[str, Text]]]]) -> None:
        """Replace the content with clusters: [(cluster or singles ref, label, [(occ id, label)])],
        every group collapsed (it opens when the cursor reaches one of its members)."""
        self.clear()
        self.nodes = {}
        for ref, text, occs in groups:
            group_node = self.root.add(text, ref, expand=False)
            self.nodes[(ref.kind, ref.key)] = group_node
            for occ_id, occ_text in occs:
                leaf = group_node.add_leaf(occ_text, NodeRef("occurrence", occ_id))
                self.nodes[("occurrence", occ_id)] = leaf

    def relabel(self, kind: str, key: str, label: Text) -> None:
        node = self.nodes.get((kind, key))
        if node is not None:
            node.set_label(label)

    def reveal(self, kind: str, key: str) -> TreeNode[NodeRef] | None:
        """Expand the node's ancestors and move the cursor to it."""
        node = self.nodes.get((kind, key))
        if node is None:
            return None
        parent = node.parent
        while parent is not None:
            if not parent.is_expanded:
                parent.expand()
            parent = parent.parent
        self._tree_lines  # noqa: B018 - rebuilds the line map so `node.line` is current
        # centred when there is room, so the file and phase around it stay in view
        self.center_scroll = self.size.height >= 12
        try:
            self.move_cursor(node)
            self.scroll_to_node(node, animate=False)
        finally:
            self.center_scroll = False
        return node

    @property
    def current(self) -> NodeRef | None:
        node = self.cursor_node
        return node.data if node is not None else None
