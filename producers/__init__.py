"""Producers: replay files and HTTP APIs as Avro events on Kafka."""
