"""The chaos suite (`make chaos`): the whole platform under load while processes, brokers and
databases fail, then an invariant check that counts what was lost or done twice."""
