"""Paginated JSON HTTP APIs: numbered pages or cursors, the records at a path in each response.

Nothing may be lost or duplicated without a word, so the walk refuses what it cannot trust:
a request that fails after its retries (skipping the page would lose its records), a page
that repeats an earlier page or a cursor seen before (the API ignores the parameter and would
be replayed for ever), more pages than ``max_pages``, and a response whose body is still
arriving ``request_timeout`` seconds after the request (a server trickling bytes would hang the
run). Each of these fails the source before any record of the offending page is yielded.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests
import urllib3
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from producers.sources.base import Position, RawRecord, SourceReadError, records_at

if TYPE_CHECKING:
    from streammart.pipeline import Pagination

_CHUNK = 64 * 1024
_UNFETCHED = object()


def _transient(exc: BaseException) -> bool:
    """Worth asking again: the network, a timeout, rate limiting or a server-side error."""
    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return True
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return exc.response.status_code == 429 or exc.response.status_code >= 500
    return False


def _read_body(response: requests.Response, deadline: float, timeout: float) -> bytes:
    """The whole (decoded) body, or ``requests.Timeout`` once ``deadline`` has passed.

    requests' and urllib3's timeouts bound each socket read, not the response, so a server
    sending a byte now and then never trips them. Hence read whatever has arrived (``read1``)
    and, before each read, shorten the socket's timeout to the time left.
    """
    raw = response.raw
    sock = raw.connection.sock if raw.connection is not None else None
    chunks = []
    try:
        while (left := deadline - time.monotonic()) > 0:
            if sock is not None:
                sock.settimeout(left)
            chunk = raw.read1(_CHUNK, decode_content=True)
            if not chunk:
                raw.release_conn()  # read to the end: the connection can serve the next page
                return b"".join(chunks)
            chunks.append(chunk)
    except urllib3.exceptions.ReadTimeoutError:
        pass
    except urllib3.exceptions.ProtocolError as exc:
        raise requests.ConnectionError(f"connection broken while reading the response: {exc}") from None
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(str(exc)) from None
    raise requests.Timeout(f"the response took longer than pagination.request_timeout ({timeout:g} s)")


def _keys(document: Any) -> str:
    """What a response holds, for an error message that helps set ``records_path``."""
    if not isinstance(document, dict):
        return f"the response is {type(document).__name__}"
    names = list(document)
    return "keys: " + ", ".join(names[:20]) + (", …" if len(names) > 20 else "")


def _digest(items: list[Any]) -> str:
    """Same items, same digest, whatever the key order (ASCII escapes survive lone surrogates)."""
    canonical = json.dumps(items, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class _Page:
    """One request of the walk."""

    number: int  # pages requested so far, this one included
    label: int | str  # what positions show: the page number sent, or the cursor sent
    params: dict[str, str]

    def __str__(self) -> str:
        if isinstance(self.label, str):
            return f"page {self.number} (cursor {self.label!r})"
        return f"page {self.label}"


class HttpSource:
    """One RawRecord per item of every page, positioned by URL, page (or cursor) and index.

    ``records_path`` is the dotted path to the list of records in each response; None means
    the response itself is that list.
    """

    def __init__(self, url: str, pagination: "Pagination", records_path: str | None):
        self.url = url
        self.pagination = pagination
        self.records_path = records_path
        self._session = requests.Session()
        self._retrying = Retrying(
            retry=retry_if_exception(_transient),
            stop=stop_after_attempt(pagination.attempts),
            wait=wait_exponential(multiplier=0.2, max=5),
            reraise=True,
        )
        self._first: Any = _UNFETCHED

    def total_hint(self) -> int | None:
        """``total`` from the first response when it has one; that response is kept for records()."""
        try:
            body = self._first_body()
        except SourceReadError:
            return None  # records() raises the same error, without asking the API again
        total = body.get("total") if isinstance(body, dict) else None
        return total if isinstance(total, int) and not isinstance(total, bool) else None

    def records(self) -> Iterator[RawRecord]:
        """Every item of every page in order, until the end of the data or a reason to distrust the API."""
        seen_items: dict[str, _Page] = {}
        seen_cursors: dict[str, _Page] = {}
        page = self._page(1)
        try:
            body = self._first_body()
        finally:
            self._first = _UNFETCHED  # a later walk asks afresh
        while True:
            items = self._items(body, page)
            if not items:
                return
            self._refuse_repeat(items, page, seen_items)
            yield from self._page_records(items, page)
            following = self._next_page(page, body, len(items), seen_cursors)
            if following is None:
                return
            page = following
            body = self._get(page)

    def _page(self, number: int, cursor: str | None = None) -> _Page:
        """The request for page ``number`` of the walk (reached through ``cursor`` in cursor style)."""
        p = self.pagination
        params = {**p.params, p.size_param: str(p.page_size)}
        if p.style == "page":
            label: int | str = p.first_page + number - 1
            params[p.page_param] = str(label)
        elif cursor is None:
            label = number
        else:
            label = params[p.cursor_param] = cursor
        return _Page(number, label, params)

    def _first_body(self) -> Any:
        """The first response, fetched once per run although total_hint() and records() both read it."""
        if self._first is _UNFETCHED:
            try:
                self._first = self._get(self._page(1))
            except SourceReadError as exc:
                self._first = exc
        if isinstance(self._first, SourceReadError):
            raise self._first
        return self._first

    def _get(self, page: _Page) -> Any:
        """The parsed response for ``page``, transient failures retried; anything else fails the source."""
        try:
            content = self._retrying(self._fetch, page.params)
        except requests.RequestException as exc:
            tries = f"; tried {self.pagination.attempts} times" if _transient(exc) else ""
            raise SourceReadError(f"{self.url} {page}: {exc}{tries}") from None
        try:
            return json.loads(content)
        except ValueError as exc:  # JSONDecodeError, or bytes in no UTF encoding
            raise SourceReadError(f"{self.url} {page}: the response is not JSON ({exc}): "
                                  f"{content[:80]!r}") from None

    def _fetch(self, params: dict[str, str]) -> bytes:
        """One request, its body complete within ``request_timeout`` seconds of sending it.

        Connecting and each wait for the status line and headers are bounded by the same
        number, per socket read: requests offers no way to reach the socket before the headers.
        """
        timeout = self.pagination.request_timeout
        deadline = time.monotonic() + timeout
        with self._session.get(self.url, params=params, timeout=timeout, stream=True) as response:
            response.raise_for_status()
            return _read_body(response, deadline, timeout)

    def _items(self, body: Any, page: _Page) -> list[Any]:
        """The page's list of records; a response of another shape fails the source, saying what it holds."""
        where = f"{self.url} {page}"
        if self.records_path is None:
            if isinstance(body, list):
                return body
            if isinstance(body, dict):
                raise SourceReadError(f"{where}: the response is an object; set records_path to the key "
                                      f"holding the records ({_keys(body)})")
            raise SourceReadError(f"{where}: the response is {type(body).__name__}, not a list of records")
        try:
            items = records_at(body, self.records_path)
        except KeyError:
            raise SourceReadError(f"{where}: records_path {self.records_path!r} is not in the response "
                                  f"({_keys(body)})") from None
        if not isinstance(items, list):
            raise SourceReadError(f"{where}: records_path {self.records_path!r} holds "
                                  f"{type(items).__name__}, not a list of records")
        return items

    def _refuse_repeat(self, items: list[Any], page: _Page, seen: dict[str, _Page]) -> None:
        """Fail on a page whose items equal an earlier page's, before any of them is yielded.

        An API that ignores the page or cursor parameter would otherwise be replayed for ever.
        Every earlier page counts, not only the previous one, so a walk that cycles is caught too.
        """
        earlier = seen.setdefault(_digest(items), page)
        if earlier is not page:
            p = self.pagination
            param = p.page_param if p.style == "page" else p.cursor_param
            raise SourceReadError(f"{self.url} {page} repeats {earlier} (same {len(items)} items): "
                                  f"does the API ignore `{param}`?")

    def _page_records(self, items: list[Any], page: _Page) -> Iterator[RawRecord]:
        for index, item in enumerate(items):
            position = Position(self.url, page=page.label, index=index)
            raw = json.dumps(item, ensure_ascii=False)
            if isinstance(item, dict):
                yield RawRecord(position, item, raw=raw)
            else:
                yield RawRecord(position, {}, error=f"item is {type(item).__name__}, not an object", raw=raw)

    def _next_page(self, page: _Page, body: Any, count: int, seen_cursors: dict[str, _Page]) -> _Page | None:
        """The request after ``page`` (which held ``count`` items), or None at the end of the data."""
        p = self.pagination
        if p.style == "page":
            if count < p.page_size:
                return None
            following = self._page(page.number + 1)
        else:
            cursor = self._next_cursor(body, page, full=count >= p.page_size)
            if cursor is None:
                return None
            if cursor in seen_cursors:
                raise SourceReadError(f"{self.url} {page}: the next cursor {cursor!r} was already used for "
                                      f"{seen_cursors[cursor]}: the API's cursors go round in a loop")
            following = seen_cursors[cursor] = self._page(page.number + 1, cursor)
        if following.number > p.max_pages:
            raise SourceReadError(f"{self.url}: more than {p.max_pages} pages (pagination.max_pages); raise it "
                                  f"if the API really has that many")
        return following

    def _next_cursor(self, body: Any, page: _Page, full: bool) -> str | None:
        """The cursor named by ``page``'s response; None (null, missing or empty) ends the walk.

        A full page without the cursor's key at all is more likely a typo in
        ``next_cursor_path`` than the end of the data: ending there would drop every
        later page without a word, so it fails instead.
        """
        path = self.pagination.next_cursor_path
        try:
            cursor = records_at(body, path)
        except KeyError:
            if full:
                raise SourceReadError(f"{self.url} {page}: a full page without next_cursor_path {path!r} in the "
                                      f"response ({_keys(body)}): is the path right?") from None
            return None
        if cursor is None or cursor == "":
            return None
        if isinstance(cursor, bool) or not isinstance(cursor, (str, int)):
            raise SourceReadError(f"{self.url} {page}: the next cursor at {path!r} is {type(cursor).__name__}, "
                                  f"not text or a whole number")
        return str(cursor)
