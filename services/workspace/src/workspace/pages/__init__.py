"""The workspace's pages, one module per concern; each builds a router on the shared `Web`."""
