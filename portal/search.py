"""The search service: sources registered by packages, a Persian-aware analyzer, Whoosh and PostgreSQL backends.

A package registers a :class:`Source` (its ``kind``, how to load one document and how
to iterate all of them). After a commit it asks for :func:`index_later` /
:func:`remove_later`, which run as jobs; :func:`search` answers with highlighted
snippets. The backend is chosen by ``PORTAL_SEARCH_BACKEND``: ``whoosh`` (default,
files under ``PORTAL_SEARCH_INDEX_DIR``) or ``postgres`` (a ``tsvector`` with a GIN
index over the same analysed terms, so both backends match the same words).

Text is folded before it is analysed (:func:`fold_text`, the one of ``portal.textfold``):
Arabic letter variants become their Persian forms, hamza carriers their base letters,
diacritics and tatweel go, Persian and Arabic-Indic digits become ASCII. A word written with a zero-width
non-joiner (``می‌روم``), with a space (``می روم``) or joined (``میروم``) matches in each
spelling, because a word is indexed joined and also as its parts.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import click
import sqlalchemy as sa
from flask import current_app
from markupsafe import Markup, escape
from sqlalchemy.dialects.postgresql import insert
from whoosh import fields as wf
from whoosh import index as windex
from whoosh import query as wq
from whoosh import scoring
from whoosh.analysis import Composable, LowercaseFilter, StemFilter, Token, Tokenizer
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher
from whoosh.columns import FixedBytesColumn
from whoosh.matching.wrappers import FilterMatcher
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import LockError

from portal import events, jobs
from portal.db import UTCDateTime, db
from portal.textfold import ZWNJ, fold_text

log = logging.getLogger(__name__)

# --- folding ------------------------------------------------------------------------


# One folding for the whole portal: portal.textfold (the word filter uses it too).
def fold_word(text: str) -> str:
    """:func:`fold_text` (zero-width non-joiners removed), so ``می‌روم`` folds to ``میروم``."""
    return fold_text(text)


_WORD = re.compile(r"[\w\u064B-\u065F\u0670\u06D6-\u06ED\u200c\u200d\u0640]+")
# Common Persian affixes that are written joined, with a ZWNJ or with a space: the stem is
# indexed too, so that every spelling of a word finds the others.
_PREFIXES = ("نمی", "می")
_SUFFIXES = ("هایی", "های", "ها", "ترین")
_MIN_STEM = 2


def word_parts(folded_with_zwnj: str) -> list[str]:
    """The joined form of a word first, then its parts (at ZWNJs and at common affixes)."""
    joined = folded_with_zwnj.replace(ZWNJ, "")
    if not joined:
        return []
    parts = [p for p in folded_with_zwnj.split(ZWNJ) if p]
    if len(parts) == 1:
        parts = _affix_parts(joined)
    result = [joined]
    for part in parts:
        if part not in result:
            result.append(part)
    return result


def _affix_parts(word: str) -> list[str]:
    parts: list[str] = []
    stem = word
    for prefix in _PREFIXES:
        if stem.startswith(prefix) and len(stem) - len(prefix) >= _MIN_STEM:
            parts.append(prefix)
            stem = stem[len(prefix) :]
            break
    suffix_found = None
    for suffix in _SUFFIXES:
        if stem.endswith(suffix) and len(stem) - len(suffix) >= _MIN_STEM:
            suffix_found = suffix
            stem = stem[: -len(suffix)]
            break
    if not parts and suffix_found is None:
        return [word]
    return [*parts, stem, *([suffix_found] if suffix_found else [])]


@lru_cache(maxsize=200_000)
def _raw_word_parts(word: str) -> tuple[str, ...]:
    """:func:`word_parts` of one word as written (folded first); cached, since words repeat."""
    return tuple(word_parts(fold_text(word, keep_zwnj=True)))


def _joins(first: str, second: str) -> str | None:
    """The joined word when ``first second`` is an affix written apart (``می روم``, ``کتاب ها``)."""
    if first in _PREFIXES and len(second) >= _MIN_STEM:
        return first + second
    if second in _SUFFIXES and len(first) >= _MIN_STEM:
        return first + second
    return None


class PersianTokenizer(Tokenizer):
    """Splits folded text into words, yielding each word's joined form and its parts at one position.

    A prefix or suffix written as a word of its own (``می روم``, ``کتاب ها``) is also indexed
    joined to its neighbour, so that a query needs only the joined form of each word.
    """

    def __call__(  # type: ignore[override]
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pos = start_pos
        previous: tuple[str, int, int] | None = None  # the last word's joined form and its span
        for match in _WORD.finditer(value):
            parts = _raw_word_parts(match.group())
            if not parts:
                continue
            texts: Sequence[str] = parts
            if previous is not None and not value[previous[2] : match.start()].strip():
                joined = _joins(previous[0], parts[0])
                if joined is not None and joined not in parts:
                    texts = (*parts, joined)
            for text in texts:
                token.text = text
                token.boost = 1.0
                token.stopped = False
                if keeporiginal:
                    token.original = match.group()
                if positions:
                    token.pos = pos
                if chars:
                    across = previous is not None and text not in parts  # the join with the previous word
                    token.startchar = start_char + (previous[1] if across and previous else match.start())
                    token.endchar = start_char + match.end()
                yield token
            previous = (parts[0], match.start(), match.end())
            pos += 1


def analyzer() -> Composable:
    """Persian-aware tokens, lowercased, English words stemmed (Persian words pass through the stemmer)."""
    return PersianTokenizer() | LowercaseFilter() | StemFilter(lang="en")


_ANALYZER = analyzer()


def terms_of(text: str) -> list[str]:
    """Every analysed term of ``text`` (what the index stores for it)."""
    return [token.text for token in _ANALYZER(text or "")]


def query_words(query: str) -> list[list[str]]:
    """The user's query as words, each a list: the joined term first (the one searched), then its parts.

    An affix typed as a word of its own (``نمی دانم``) joins its neighbour, as in the index.
    """
    words: list[list[str]] = []
    previous = ""
    for match in _WORD.finditer(query or ""):
        analysed = list(dict.fromkeys(token.text for token in _ANALYZER(match.group())))
        if not analysed:
            continue
        joined = _joins(previous, analysed[0]) if words and previous else None
        if joined is not None:
            words[-1] = list(dict.fromkeys([joined, *words[-1], *analysed]))
            previous = ""
        else:
            words.append(analysed)
            previous = analysed[0]
    return words


# --- documents, sources, results ------------------------------------------------------


@dataclass
class Document:
    """What a source gives for one searchable thing; ``category`` and ``author`` are filter keys."""

    kind: str
    id: str
    title: str
    body: str
    url: str
    language: str = ""
    category: str | None = None
    author: str | None = None
    created_at: datetime | None = None
    category_label: str = ""
    author_name: str = ""
    # Shown with the hit but not searched: e.g. a reply's topic title, which would otherwise
    # make every reply of a topic match the topic's words.
    context: str = ""


class Source(Protocol):
    """What a package registers: its kind, one document by id, and all documents for a reindex."""

    kind: str

    def get_document(self, doc_id: str) -> Document | None: ...

    def iter_documents(self) -> Iterable[Document]: ...

    def count(self) -> int: ...


_sources: dict[str, Source] = {}


def register_source(source: Source) -> None:
    _sources[source.kind] = source


def sources() -> dict[str, Source]:
    return dict(_sources)


@dataclass
class Filters:
    """Optional narrowing of a search; dates are inclusive bounds on ``created_at``."""

    category: str | None = None
    author: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    language: str | None = None


@dataclass
class Hit:
    kind: str
    id: str
    title: str
    url: str
    snippet: Markup
    title_html: Markup
    category: str | None
    category_label: str
    author: str | None
    author_name: str
    created_at: datetime | None
    score: float = 0.0


@dataclass
class Results:
    hits: list[Hit]
    total: int
    page: int
    per_page: int
    query: str = ""
    terms: set[str] = field(default_factory=set)
    # True when ``total`` is a lower bound: more documents match than were counted ("1,000+").
    capped: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


# --- highlighting (shared by both backends, so they mark the same words) -----------------


@lru_cache(maxsize=200_000)
def _word_terms(word: str) -> frozenset[str]:
    """The analysed terms of one word as written (cached: snippets re-analyse the same words)."""
    return frozenset(terms_of(word))


def highlight(text: str, terms: set[str], *, limit: int | None = 240) -> Markup:
    """``text`` escaped, with the words that match ``terms`` in ``<mark>``, cut to a window around the first."""
    text = re.sub(r"\s+", " ", text or "").strip()
    matches = [m for m in _WORD.finditer(text) if not terms.isdisjoint(_word_terms(m.group()))]
    start, end = 0, len(text)
    if limit is not None and len(text) > limit:
        first = matches[0].start() if matches else 0
        start = max(0, first - limit // 3)
        end = min(len(text), start + limit)
    out: list[str] = ["…" if start > 0 else ""]
    cursor = start
    for m in matches:
        if m.start() < start or m.end() > end:
            continue
        out.append(str(escape(text[cursor : m.start()])))
        out.append(f"<mark>{escape(m.group())}</mark>")
        cursor = m.end()
    out.append(str(escape(text[cursor:end])))
    out.append("…" if end < len(text) else "")
    return Markup("".join(out))  # noqa: S704 - every piece above is escaped


def _hit(doc: dict[str, Any], terms: set[str], score: float) -> Hit:
    return Hit(
        kind=doc["kind"],
        id=doc["doc_id"],
        title=doc["title"] or doc.get("context") or "",
        url=doc["url"],
        snippet=highlight(doc["body"], terms),
        title_html=highlight(doc["title"] or doc.get("context") or "", terms, limit=None),
        category=doc.get("category") or None,
        category_label=doc.get("category_label") or "",
        author=doc.get("author") or None,
        author_name=doc.get("author_name") or "",
        created_at=doc.get("created_at"),
        score=score,
    )


# --- the Whoosh backend -------------------------------------------------------------------

# Above this many matches the total is shown as "1,000+" (counting them all costs a full pass).
COUNT_CAP = 1000


def whoosh_schema() -> wf.Schema:
    """The index's fields. Title and body keep term frequencies but no positions (``phrase=False``):
    nothing searches phrases, and positions make every posting block several times slower to read.
    """
    return wf.Schema(
        key=wf.ID(unique=True, stored=True),
        kind=wf.ID(stored=True),
        doc_id=wf.ID(stored=True),
        title=wf.TEXT(analyzer=_ANALYZER, stored=True, phrase=False),
        body=wf.TEXT(analyzer=_ANALYZER, stored=True, phrase=False),
        url=wf.STORED(),
        language=wf.ID(stored=True),
        category=wf.ID(stored=True),
        category_label=wf.STORED(),
        author=wf.ID(stored=True),
        author_name=wf.STORED(),
        context=wf.STORED(),
        created_at=wf.DATETIME(stored=True, sortable=True),
    )


def schema_is_current(schema: wf.Schema) -> bool:
    """The same fields with the same posting formats as :func:`whoosh_schema` (an index made by an
    older version, e.g. with positions, still searches correctly, only more slowly)."""
    expected = whoosh_schema()
    if sorted(schema.names()) != sorted(expected.names()):
        return False
    return all(type(schema[name].format) is type(expected[name].format) for name in expected.names())


def _naive_utc(value: datetime | None) -> datetime | None:
    # Whoosh stores naive datetimes; ours are aware UTC.
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None)


class WhooshBackend:
    """Files under one directory; one writer at a time in this process, with a wait across processes."""

    name = "whoosh"

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)
        self._lock = threading.Lock()
        self._index: Any = None
        # Searchers are per thread (gthread workers search concurrently); each is reused
        # between queries and replaced only when the index changed.
        self._local = threading.local()
        # (segment id, field) -> every document's length byte; segments are immutable.
        self._length_cache: dict[tuple[str, str], bytes] = {}

    def _open(self) -> Any:
        if self._index is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            if windex.exists_in(str(self.directory)):
                self._index = windex.open_dir(str(self.directory))
                if not schema_is_current(self._index.schema):
                    log.warning(
                        "search: the index in %s has an older schema; it still answers, more slowly, until "
                        "`flask portal search reindex` rebuilds it",
                        self.directory,
                    )
            else:
                self._index = windex.create_in(str(self.directory), whoosh_schema())
        return self._index

    def outdated(self) -> bool:
        """Whether the index on disk was built with another schema (a full reindex rebuilds it)."""
        return not schema_is_current(self._open().schema)

    def _writer(self) -> Any:
        return self._open().writer(timeout=30.0)

    def _fields(self, doc: Document) -> dict[str, Any]:
        values: dict[str, Any] = {
            "key": f"{doc.kind}:{doc.id}",
            "kind": doc.kind,
            "doc_id": str(doc.id),
            "title": doc.title or "",
            "body": doc.body or "",
            "url": doc.url,
            "language": doc.language or "",
            "category": doc.category or "",
            "category_label": doc.category_label or "",
            "author": doc.author or "",
            "author_name": doc.author_name or "",
            "context": doc.context or "",
        }
        if doc.created_at is not None:
            values["created_at"] = _naive_utc(doc.created_at)
        return values

    def index(self, documents: Iterable[Document]) -> None:
        with self._lock:
            writer = self._writer()
            try:
                for doc in documents:
                    writer.update_document(**self._fields(doc))
            except BaseException:
                writer.cancel()
                raise
            writer.commit()

    def remove(self, kind: str, ids: Sequence[str]) -> None:
        with self._lock:
            writer = self._writer()
            for doc_id in ids:
                writer.delete_by_term("key", f"{kind}:{doc_id}")
            writer.commit()

    def optimize(self) -> None:
        """Merges the index into one segment (after a bulk reindex: fewer segments, faster searches)."""
        with self._lock:
            self._open().optimize()

    def clear(self) -> None:
        self.close()
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._index = windex.create_in(str(self.directory), whoosh_schema())

    def _current_searcher(self) -> Any:
        searcher = getattr(self._local, "searcher", None)
        if searcher is not None and not searcher.up_to_date():
            # Not Searcher.refresh(): it reuses segment readers and so misses new deletions.
            searcher.close()
            searcher = None
        if searcher is None:
            with self._lock:
                searcher = self._open().searcher()
            self._local.searcher = searcher
        return searcher

    def close(self) -> None:
        searcher = getattr(self._local, "searcher", None)
        if searcher is not None:
            searcher.close()
            self._local.searcher = None

    def search(
        self, words: list[list[str]], *, kinds: Sequence[str] | None, filters: Filters, page: int, per_page: int
    ) -> tuple[list[tuple[dict[str, Any], float]], int, bool]:
        """The page's documents with their scores, the total, and whether the total is a lower bound.

        Every word must match in the title or the body; a document scores, per word, BM25 of the
        word in the title times :data:`TITLE_BOOST` plus BM25 in the body -- what Whoosh's
        ``And([Or([Term(title, boost=2), Term(body)]), ...])`` scores, with the same statistics.
        Whoosh's matchers step through postings one call per posting (several for the
        ``Or``), which for a word in a fifth of 100,000 posts costs hundreds of milliseconds;
        here each posting list is read a block at a time into a dict, the words are
        intersected as sets and only the survivors are scored, so the cost is a few C-level
        passes over the postings plus one Python step per matching document.
        """
        searcher = self._current_searcher()
        if not searcher.doc_count():
            return [], 0, False
        terms = list(dict.fromkeys(variants[0] for variants in words))
        limit = page * per_page
        scorer = _Scoring(searcher, terms)
        only = self._filter_docs(searcher, filters)
        top: list[tuple[float, int]] = []
        total = 0
        for reader, offset in searcher.reader().leaf_readers():
            scores = self._segment_scores(reader, terms, kinds, filters, scorer, only, offset)
            total += len(scores)
            top.extend(_best(scores, limit, offset))
        # Best score first, then the lower document number (Whoosh's order for equal scores).
        top.sort(key=lambda item: (-item[0], item[1]))
        found = []
        for score, docnum in top[(page - 1) * per_page : limit]:
            doc = dict(searcher.stored_fields(docnum))
            created = doc.get("created_at")
            if isinstance(created, datetime):
                doc["created_at"] = created.replace(tzinfo=UTC)
            found.append((doc, score))
        # Counting is exact here, but the page keeps saying "cap+" above the cap (and past the
        # page asked for), as it did when counting cost a pass of its own.
        cap = max(COUNT_CAP, (page + 1) * per_page)
        return found, min(total, cap), total > cap

    @staticmethod
    def _filter_docs(searcher: Any, filters: Filters) -> set[int] | None:
        """Global document numbers inside the date range (``None`` when there is no date filter)."""
        if not (filters.since or filters.until):
            return None
        query = wq.DateRange("created_at", _naive_utc(filters.since), _naive_utc(filters.until))
        return set(searcher.docs_for_query(query))

    def _segment_scores(
        self,
        reader: Any,
        terms: list[str],
        kinds: Sequence[str] | None,
        filters: Filters,
        scorer: _Scoring,
        only: set[int] | None,
        offset: int,
    ) -> dict[int, float]:
        """Segment document number -> score, for the documents of one segment that match."""
        postings = [(_postings(reader, "title", term), _postings(reader, "body", term)) for term in terms]
        matching: list[Any] = []
        for title, body in postings:
            if not title and not body:
                return {}
            matching.append(title.keys() | body.keys() if title else body.keys())
        for name, value in (
            ("category", filters.category),
            ("author", filters.author),
            ("language", filters.language),
        ):
            if value:
                matching.append(_postings(reader, name, str(value)).keys())
        if kinds:
            matching.append({d for kind in kinds for d in _postings(reader, "kind", kind)})
        matching.sort(key=len)
        candidates = set(matching[0])
        for other in matching[1:]:
            if not candidates:
                return {}
            candidates &= other
        if reader.has_deletions():
            candidates -= getattr(reader, "deleted_docs_set", None) or frozenset(reader.deleted_docs())
        if only is not None:
            candidates = {d for d in candidates if offset + d in only}
        if not candidates:
            return {}
        scores = dict.fromkeys(candidates, 0.0)
        for term, (title, body) in zip(terms, postings, strict=True):
            for fieldname, weights in (("title", title), ("body", body)):
                if weights:
                    scorer.add(scores, weights, self._lengths(reader, fieldname), fieldname, term)
        return scores

    def _lengths(self, reader: Any, fieldname: str) -> bytes:
        """The field's length byte of every document of a segment (cached per segment: they never change)."""
        key = (reader.segment().segment_id(), fieldname)
        lengths = self._length_cache.get(key)
        if lengths is None:
            lengths = _length_bytes(reader, fieldname)
            if len(self._length_cache) > 256:
                self._length_cache.clear()
            self._length_cache[key] = lengths
        return lengths


def _best(scores: dict[int, float], limit: int, offset: int) -> list[tuple[float, int]]:
    """At least the ``limit`` best (score, global document number) of a segment, ties at the edge included.

    The cut-off score comes from the bare floats; only the documents at or above it become tuples.
    """
    if len(scores) > limit:
        threshold = heapq.nlargest(limit, scores.values())[-1]
        return [(s, offset + d) for d, s in scores.items() if s >= threshold]
    return [(s, offset + d) for d, s in scores.items()]


# A title match counts this many times a body match.
TITLE_BOOST = 2.0


class _Scoring:
    """BM25F as the searcher's weighting computes it (global idf and average lengths), per length byte."""

    def __init__(self, searcher: Any, terms: list[str]) -> None:
        weighting = searcher.weighting
        if not isinstance(weighting, scoring.BM25F):
            raise TypeError(f"the search backend scores with BM25F, not {weighting!r}")
        k1 = weighting.K1
        self._factor: dict[tuple[str, str], float] = {}
        self._norms: dict[str, list[float]] = {}
        for fieldname, boost in (("title", TITLE_BOOST), ("body", 1.0)):
            b = getattr(weighting, "_field_B", {}).get(fieldname, weighting.B)  # BM25F(body_B=...) per field
            average = searcher.avg_field_length(fieldname) or 1
            # bm25(idf, tf, fl) = idf * tf * (K1 + 1) / (tf + norm[fl]), fl one of 256 length bytes
            self._norms[fieldname] = [k1 * ((1 - b) + b * byte_to_length(n) / average) for n in range(256)]
            for term in terms:
                if searcher.doc_frequency(fieldname, term):
                    self._factor[(fieldname, term)] = boost * searcher.idf(fieldname, term) * (k1 + 1)

    def add(
        self, scores: dict[int, float], weights: dict[int, float], lengths: bytes, fieldname: str, term: str
    ) -> None:
        """Adds the term's score in ``fieldname`` to every document of ``scores`` that has it there.

        (One Python step per document; ``map`` chains over C functions measured slower.)
        """
        factor, norm = self._factor[(fieldname, term)], self._norms[fieldname]
        if len(weights) <= len(scores):
            for d, w in weights.items():
                if d in scores:
                    scores[d] += factor * w / (w + norm[lengths[d]])
        else:
            for d in scores.keys() & weights.keys():
                w = weights[d]
                scores[d] += factor * w / (w + norm[lengths[d]])


def _postings(reader: Any, fieldname: str, text: str) -> dict[int, float]:
    """Segment document number -> weight of one term, read a block at a time (deleted documents included)."""
    if (fieldname, text) not in reader:
        return {}
    matcher = reader.postings(fieldname, text)
    if isinstance(matcher, FilterMatcher):  # the segment has deletions: the caller removes them
        matcher = matcher.child
    result: dict[int, float] = {}
    if isinstance(matcher, W3LeafMatcher) and not matcher._byteids:
        # The on-disk format: blocks of up to 128 postings, each ids (delta-coded) and weights.
        while not matcher._atend:
            matcher._read_data()
            ids, weights = matcher._data[0], matcher._data[1]
            # What _read_ids() and _read_weights() decode, without their Python generators: the ids
            # are deltas (accumulate() sums them in C); weights are None when all are 1.0, one float
            # when all are equal, else one per posting.
            if weights is None or isinstance(weights, float):
                weights = itertools.repeat(1.0 if weights is None else weights, len(ids))
            result.update(zip(itertools.accumulate(ids), weights, strict=True))
            matcher._next_block()
        return result
    while matcher.is_active():  # short lists kept inline in the term index, other codecs
        result[matcher.id()] = matcher.weight()
        matcher.next()
    return result


def _length_bytes(reader: Any, fieldname: str) -> bytes:
    """Every document's length byte for ``fieldname`` in one segment (Whoosh stores one byte per document)."""
    count = reader.doc_count_all()
    perdoc = getattr(reader, "_perdoc", None)
    column = None
    if perdoc is not None and hasattr(perdoc, "_cached_reader"):
        column = perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)
    if isinstance(column, FixedBytesColumn.Reader) and getattr(column, "_fixedlen", None) == 1:
        stored = min(column._count, count)
        data = bytes(column._dbfile.get(column._basepos, stored)) if stored else b""
        return data + bytes(count - stored)  # documents past the column's end have length 0
    return bytes(length_to_byte(reader.doc_field_length(d, fieldname, 0) or 0) for d in range(count))


# --- the PostgreSQL backend ------------------------------------------------------------------

# The table lives in the forums migration (the first package to need it); on PostgreSQL it
# also has ``tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', terms)) STORED`` with a
# GIN index, which the model does not declare because SQLite has no such type.
search_documents = sa.Table(
    "search_documents",
    db.metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("doc_id", sa.String(64), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("url", sa.String(500), nullable=False),
    sa.Column("language", sa.String(8), nullable=False, server_default=""),
    sa.Column("category", sa.String(64), nullable=False, server_default=""),
    sa.Column("category_label", sa.String(200), nullable=False, server_default=""),
    sa.Column("author", sa.String(64), nullable=False, server_default=""),
    sa.Column("author_name", sa.String(200), nullable=False, server_default=""),
    sa.Column("context", sa.String(300), nullable=False, server_default=""),
    sa.Column("created_at", UTCDateTime(), nullable=True, index=True),
    sa.Column("terms", sa.Text, nullable=False),
    sa.UniqueConstraint("kind", "doc_id"),
)


class PostgresBackend:
    """Rows in ``search_documents``; written through the current session (the job commits)."""

    name = "postgres"

    def _row(self, doc: Document) -> dict[str, Any]:
        return {
            "kind": doc.kind,
            "doc_id": str(doc.id),
            "title": doc.title or "",
            "body": doc.body or "",
            "url": doc.url,
            "language": doc.language or "",
            "category": doc.category or "",
            "category_label": doc.category_label or "",
            "author": doc.author or "",
            "author_name": doc.author_name or "",
            "context": doc.context or "",
            "created_at": doc.created_at,
            "terms": " ".join(terms_of(f"{doc.title}\n{doc.body}")),
        }

    def index(self, documents: Iterable[Document]) -> None:
        rows = [self._row(doc) for doc in documents]
        if not rows:
            return
        stmt = insert(search_documents).values(rows)
        stmt = stmt.on_conflict_do_update(
            index_elements=["kind", "doc_id"],
            set_={c: stmt.excluded[c] for c in rows[0] if c not in ("kind", "doc_id")},
        )
        db.session.execute(stmt)

    def remove(self, kind: str, ids: Sequence[str]) -> None:
        db.session.execute(
            sa.delete(search_documents).where(
                search_documents.c.kind == kind, search_documents.c.doc_id.in_([str(i) for i in ids])
            )
        )

    def clear(self) -> None:
        db.session.execute(sa.delete(search_documents))

    def search(
        self, words: list[list[str]], *, kinds: Sequence[str] | None, filters: Filters, page: int, per_page: int
    ) -> tuple[list[tuple[dict[str, Any], float]], int, bool]:
        # Terms are \w-only (the tokenizer's alphabet), so they are safe inside to_tsquery.
        # The joined form of each word only, as in the Whoosh backend.
        tsquery = sa.func.to_tsquery("simple", " & ".join(variants[0] for variants in words))
        tsv = sa.literal_column("tsv")
        table = search_documents
        conditions: list[Any] = [tsv.op("@@")(tsquery)]
        if kinds:
            conditions.append(table.c.kind.in_(list(kinds)))
        if filters.category:
            conditions.append(table.c.category == str(filters.category))
        if filters.author:
            conditions.append(table.c.author == str(filters.author))
        if filters.language:
            conditions.append(table.c.language == filters.language)
        if filters.since:
            conditions.append(table.c.created_at >= filters.since)
        if filters.until:
            conditions.append(table.c.created_at <= filters.until)
        rank = sa.func.ts_rank(tsv, tsquery).label("rank")
        stmt = (
            sa.select(table, rank, sa.func.count().over().label("total"))
            .where(*conditions)
            .order_by(rank.desc(), table.c.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
        rows = db.session.execute(stmt).mappings().all()
        total = int(rows[0]["total"]) if rows else 0
        if not rows and page > 1:
            total = db.session.scalar(sa.select(sa.func.count()).select_from(table).where(*conditions)) or 0
        return [(dict(row), float(row["rank"] or 0)) for row in rows], total, False


# --- the service -------------------------------------------------------------------------------

_backends: dict[tuple[str, str], Any] = {}


def backend() -> Any:
    """The configured backend (one per process and setting)."""
    name = current_app.config["SEARCH_BACKEND"]
    directory = current_app.config["SEARCH_INDEX_DIR"]
    key = (name, directory if name == "whoosh" else "")
    if key not in _backends:
        if name == "postgres":
            _backends[key] = PostgresBackend()
        elif name == "whoosh":
            _backends[key] = WhooshBackend(directory)
        else:
            raise RuntimeError(f"unknown PORTAL_SEARCH_BACKEND {name!r}")
    return _backends[key]


def close_backends() -> None:
    """Closes open searchers and forgets the backends (tests switch index directories)."""
    for engine in _backends.values():
        if isinstance(engine, WhooshBackend):
            engine.close()
    _backends.clear()


def search(
    query: str,
    kinds: Sequence[str] | None = None,
    filters: Filters | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Results:
    """Finds documents matching every word of ``query``; hits carry highlighted snippets."""
    page = max(1, int(page))
    words = query_words(query)
    terms = {term for variants in words for term in variants}
    if not words:
        return Results([], 0, page, per_page, query, terms)
    found, total, capped = backend().search(
        words, kinds=kinds, filters=filters or Filters(), page=page, per_page=per_page
    )
    hits = [_hit(doc, terms, score) for doc, score in found]
    return Results(hits, total, page, per_page, query, terms, capped=capped)


def index_documents(documents: Iterable[Document]) -> None:
    backend().index(documents)


def remove_documents(kind: str, ids: Sequence[str]) -> None:
    backend().remove(kind, ids)


@jobs.job
def index_job(kind: str, doc_id: str) -> None:
    """Indexes one document as its source now sees it (or removes it when the source has none)."""
    source = _sources.get(kind)
    if source is None:
        log.warning("search: no source registered for %s", kind)
        return
    doc = source.get_document(str(doc_id))
    if doc is None:
        backend().remove(kind, [str(doc_id)])
    else:
        backend().index([doc])
    db.session.commit()


@jobs.job
def remove_job(kind: str, doc_id: str) -> None:
    backend().remove(kind, [str(doc_id)])
    db.session.commit()


def index_later(kind: str, doc_id: Any) -> None:
    """Refreshes the document in the index once the current transaction commits."""
    events.after_commit(index_job, kind, str(doc_id))


def remove_later(kind: str, doc_id: Any) -> None:
    events.after_commit(remove_job, kind, str(doc_id))


def reindex(
    kinds: Sequence[str] | None = None, *, batch: int = 500, progress: Callable[[int], None] | None = None
) -> int:
    """Rebuilds the index from every registered source (or the ``kinds`` given); returns the count."""
    engine = backend()
    if kinds and isinstance(engine, WhooshBackend) and engine.outdated():
        log.warning("search: the index has an older schema, so every kind is reindexed, not only %s", kinds)
        kinds = None
    chosen = [s for k, s in _sources.items() if not kinds or k in kinds]
    if not kinds:
        engine.clear()
    else:
        for source in chosen:
            _remove_kind(engine, source.kind)
    done = 0
    for source in chosen:
        pending: list[Document] = []
        for doc in source.iter_documents():
            pending.append(doc)
            if len(pending) >= batch:
                engine.index(pending)
                done += len(pending)
                if progress:
                    progress(len(pending))
                pending = []
        if pending:
            engine.index(pending)
            done += len(pending)
            if progress:
                progress(len(pending))
    if isinstance(engine, WhooshBackend):
        engine.optimize()  # one segment after a bulk load
    db.session.commit()
    return done


def _remove_kind(engine: Any, kind: str) -> None:
    if isinstance(engine, WhooshBackend):
        with engine._lock:
            writer = engine._writer()
            writer.delete_by_term("kind", kind)
            writer.commit()
    else:
        db.session.execute(sa.delete(search_documents).where(search_documents.c.kind == kind))


def total_documents() -> int:
    """How many documents the registered sources hold (for a progress bar's length)."""
    return sum(source.count() for source in _sources.values())


@click.group("search", help="The search index.")
def search_cli() -> None:
    pass


@search_cli.command("reindex")
@click.option("--kind", "kinds", multiple=True, help="Only these kinds (default: every registered source).")
def reindex_command(kinds: tuple[str, ...]) -> None:
    """Rebuild the search index from every registered source, with a progress bar."""
    total = sum(s.count() for k, s in _sources.items() if not kinds or k in kinds)
    with click.progressbar(length=total, label="Indexing") as bar:
        done = reindex(list(kinds) or None, progress=bar.update)
    click.echo(f"search: {done} document(s) indexed with the {backend().name} backend")


__all__ = [
    "Document",
    "Filters",
    "Hit",
    "LockError",
    "Results",
    "Source",
    "fold_text",
    "fold_word",
    "index_later",
    "register_source",
    "reindex",
    "remove_later",
    "search",
]
