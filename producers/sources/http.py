"""Paginated JSON HTTP APIs (``?page=N&per_page=M``, items under a field).

Transient failures (connection errors, 5xx, 429) are retried with backoff; a page
that still fails stops the run, because skipping it would lose records silently.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import requests
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

from producers.sources.base import RawRecord, SourceReadError

if TYPE_CHECKING:
    from streammart.pipeline import Pagination


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return True
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return exc.response.status_code == 429 or exc.response.status_code >= 500
    return False


class HttpSource:
    def __init__(self, url: str, pagination: "Pagination", timeout: float = 10.0, attempts: int = 5):
        self.url = url
        self.pagination = pagination
        self.timeout = timeout
        self.attempts = attempts
        self._session = requests.Session()

    def total_hint(self) -> int | None:
        try:
            body = self._get_page(self.pagination.first_page)
        except SourceReadError:
            return None
        total = body.get("total") if isinstance(body, dict) else None
        return total if isinstance(total, int) else None

    def _fetch(self, page: int) -> Any:
        params = {self.pagination.page_param: page, self.pagination.size_param: self.pagination.page_size}
        response = self._session.get(self.url, params=params, timeout=self.timeout)
        response.raise_for_status()
        return response.json()

    def _get_page(self, page: int) -> Any:
        fetch = retry(
            retry=retry_if_exception(_transient),
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=0.2, max=5),
            reraise=True,
        )(self._fetch)
        try:
            return fetch(page)
        except (requests.RequestException, json.JSONDecodeError) as exc:
            raise SourceReadError(f"{self.url} page {page}: {exc}") from None

    def records(self) -> Iterator[RawRecord]:
        page = self.pagination.first_page
        field = self.pagination.items_field
        while True:
            body = self._get_page(page)
            items = body.get(field) if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise SourceReadError(f"{self.url} page {page}: no list under {field!r}")
            if not items:
                return
            for index, item in enumerate(items):
                position = f"{self.url}?page={page}#{index}"
                if isinstance(item, dict):
                    yield RawRecord(position, item, raw=json.dumps(item, default=str))
                else:
                    yield RawRecord(position, {}, error=f"item is {type(item).__name__}, not an object",
                                    raw=json.dumps(item, default=str))
            if len(items) < self.pagination.page_size:
                return
            page += 1
