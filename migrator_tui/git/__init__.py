"""Commit: per-file branches built from git objects, never through the working tree or the index.

`repo` opens a repository and finds its state folder, `objects` reads and writes blobs, trees,
commits and refs, `refnames` names the branches, `commitmsg` writes and reads commit messages,
`flow` commits, lists, rolls back and integrates the per-file branches.
"""
