"""Source readers. Each yields raw records with the position they came from."""
from producers.sources.base import RawRecord, Source, SourceReadError, open_source

__all__ = ["RawRecord", "Source", "SourceReadError", "open_source"]
