"""`python -m socialsvc_ops.archive`: the archive's consumer, as `make run` starts it."""

from socialsvc_ops.archive.commands import archive

archive(["run"])
