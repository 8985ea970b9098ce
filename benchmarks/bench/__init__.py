"""`make bench`: the platform's throughput and latency on real Kafka and PostgreSQL, next to the
limit of the same broker (a bare relay over four hops and Kafka's own producer benchmark)."""
