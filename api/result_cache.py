"""A bounded LRU cache of /sparql answers, keyed on the store version, with strong ETags.

An entry's key is a hash of (store version, query text, Accept, format=, default-graph-uri,
named-graph-uri, row limit), salted per process; its ETag is that hash. Every write through pactgraph (update,
graph store, ingest) bumps the store version, so after a write no older entry is ever found
again (and the first lookup at the new version drops them all): an answer is never stale.
Answers are served from the event loop, without a query worker; a client that sends the ETag
back in If-None-Match gets 304 while the store has not changed (even once the entry itself
was evicted: the ETag names the version, and at the same version the answer is the same).

What is not cached: error answers; queries whose answer may change without the data (NOW(),
RAND(), UUID(), STRUUID(), BNODE()); answers over a quarter of the budget (one answer would
push out all the others); and the `sparql:` backend, because its server may be written by
others than pactgraph, whose writes no version here would see.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from dataclasses import dataclass

# What an entry costs beyond its body: the key, the headers, the bookkeeping.
ENTRY_OVERHEAD = 512


@dataclass(frozen=True)
class CachedAnswer:
    """An answer as it was sent: bytes, media type, the headers that go with them, and its ETag."""

    body: bytes
    media_type: str
    etag: str
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def size(self) -> int:
        return len(self.body) + ENTRY_OVERHEAD


class ResultCache:
    """LRU over answers, at most `max_bytes` in all (bodies plus a fixed cost per entry).

    Used from the event loop only, so it needs no lock."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max(0, max_bytes)
        # The store version restarts at 0 with the process, and the data may have changed
        # between two runs: an ETag of an earlier run must never match, so each run salts its own.
        self._salt = os.urandom(16)
        self._entries: OrderedDict[str, CachedAnswer] = OrderedDict()
        self._version: int | None = None
        self.size = 0
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def __len__(self) -> int:
        return len(self._entries)

    def key(
        self,
        version: int,
        query: str,
        accept: str | None,
        fmt: str | None,
        defaults: list[str],
        named: list[str],
        max_rows: int | None,
    ) -> str:
        """The entry's key and strong ETag: a hash of everything the answer's bytes depend on."""
        h = hashlib.blake2b(digest_size=16, key=self._salt)
        for part in (str(version), query, accept or "", fmt or "", str(max_rows)):
            h.update(part.encode("utf-8", "surrogatepass"))
            h.update(b"\x00")
        for uris in (defaults, named):
            h.update("\x1f".join(uris).encode("utf-8", "surrogatepass"))
            h.update(b"\x00")
        return f'"{h.hexdigest()}"'

    def _at(self, version: int) -> None:
        """Entries of an older store version can never be asked for again: drop them."""
        if version != self._version:
            self._entries.clear()
            self.size = 0
            self._version = version

    def get(self, version: int, key: str) -> CachedAnswer | None:
        self._at(version)
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def put(self, version: int, key: str, entry: CachedAnswer) -> bool:
        """Keep an answer computed at `version`; False when it is not kept (too large, or the
        store has moved on since)."""
        if self._version is not None and version < self._version:
            return False
        self._at(version)
        if entry.size > self.max_bytes // 4:
            return False
        old = self._entries.pop(key, None)
        if old is not None:
            self.size -= old.size
        self._entries[key] = entry
        self.size += entry.size
        while self.size > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self.size -= evicted.size
        return True

    def clear(self) -> None:
        self._entries.clear()
        self.size = 0


def etag_matches(if_none_match: str | None, etag: str, star: bool = True) -> bool:
    """Whether If-None-Match names this ETag (weak comparison, as RFC 9110 asks for it). `*`
    matches any current representation: pass star=False when no answer is held (none was
    computed, or the query may be a syntax error), since then there is nothing to match."""
    if not if_none_match:
        return False
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if (tag == "*" and star) or tag.removeprefix("W/") == etag:
            return True
    return False
