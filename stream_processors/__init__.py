"""Stream processors: land Kafka events in Postgres raw tables, exactly once."""

# The landing workers' Faust app id, hence their Kafka consumer group. It lives here,
# not in app.py, so the stack can name it without importing Faust.
LANDING_GROUP = "streammart-landing"
