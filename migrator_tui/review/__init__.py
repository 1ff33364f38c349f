"""Review: decisions, persisted and locked, and the workspace that turns them into branches.

`state` is the review state file (decisions, commits, verifications; atomic writes), `lock`
keeps two reviews of one repository apart, `workspace` ties a scan, the rewrite engine, the
state and the git flow together for the CLI and the TUI, `diff` builds the hunks a reviewer reads.
"""
