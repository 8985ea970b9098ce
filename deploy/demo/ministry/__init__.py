"""The demo at the articles' scale: the provider registry, 20,000+ people and the providers' side,
loaded into a running platform through its own HTTP APIs (`make demo-statistics`)."""
