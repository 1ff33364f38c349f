"""Scan: a repository and a recipe in, every occurrence grouped by phase out.

`files` lists and reads the candidate files (git's view of the tree, or a filtered walk),
`classify` finds and classifies the acquire calls of one source on the standard library `ast`,
`run` filters bytes first, spreads the parsing over processes and assembles the `ScanResult`.
"""

from migrator_tui.scan.run import blob_hash, scan, spec_for

__all__ = ["blob_hash", "scan", "spec_for"]
