"""The bundled demo repository (package data under `app/`) and its builder."""

from __future__ import annotations

from migrator_tui.demo.build import DEMO_AUTHOR, DEMO_DATE, build_demo, demo_files

__all__ = ["DEMO_AUTHOR", "DEMO_DATE", "build_demo", "demo_files"]
