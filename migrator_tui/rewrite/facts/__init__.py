"""The fact families the analysis collects for warnings.

Handlers and callers, writes and exits, ORM objects leaving a block, slow calls.
"""
