"""`python -m socialsvc_ops`: the same as the `socialsvc-ops` command."""

from socialsvc_ops.cli import main

main()
