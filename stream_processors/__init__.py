"""Stream processors: land Kafka events in Postgres raw tables, exactly once."""
