"""Database engine and sessions. The request dependency owns commit/rollback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

_engine: Engine | None = None
_factory: sessionmaker[Session] | None = None
_generation = 0


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets readers run during a write; the busy timeout rides out short write locks
    # instead of failing with "database is locked" under concurrent requests.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


# A request that cannot get a connection within this time answers 503 SERVER_BUSY (app.http) rather
# than waiting out SQLAlchemy's default 30 s: admission control keeps this rare.
POOL_TIMEOUT_S = 10.0


def make_engine(
    url: str, pool_size: int = 10, *, overflow: int | None = None, timeout_s: float = POOL_TIMEOUT_S
) -> Engine:
    """The engine, its pool sized from the settings (Settings.pool_size) with as much overflow again."""
    pool: dict[str, Any] = {
        "pool_size": pool_size,
        "max_overflow": pool_size if overflow is None else overflow,
        "pool_timeout": timeout_s,
    }
    if url.startswith("sqlite"):
        if ":memory:" in url or url in ("sqlite://", "sqlite:///"):
            pool = {}  # an in-memory database lives in one connection (SingletonThreadPool)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10}, **pool)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **pool)


_probe: tuple[Engine, Engine] | None = None


def probe_engine() -> Engine:
    """A two-connection engine beside the main one, for health checks: it never queues behind requests."""
    global _probe
    main = get_engine()
    if _probe is None or _probe[0] is not main:
        if _probe is not None:
            _probe[1].dispose()
        url = main.url.render_as_string(hide_password=False)
        _probe = (main, make_engine(url, 2, overflow=0, timeout_s=1.0))
    return _probe[1]


def init_engine(url: str, pool_size: int = 10) -> Engine:
    global _engine, _factory, _generation
    dispose_engine()
    _generation += 1
    _engine = make_engine(url, pool_size)
    _factory = sessionmaker(_engine, expire_on_commit=False)
    return _engine


def engine_generation() -> int | None:
    """Which engine is current: a new number for each init_engine(), None while there is none. (Not the
    engine's id(): a new engine may be allocated where a disposed one was.)"""
    return _generation if _engine is not None else None


def get_engine() -> Engine:
    if _engine is None:
        raise RuntimeError("database engine not initialised")
    return _engine


def pool_saturated() -> bool:
    """True when every connection of the main pool (overflow included) is checked out."""
    if _engine is None:
        return False
    pool = _engine.pool
    size, checked_out = getattr(pool, "size", None), getattr(pool, "checkedout", None)
    if size is None or checked_out is None:
        return False
    return checked_out() >= size() + max(0, getattr(pool, "_max_overflow", 0))


def dispose_engine() -> None:
    global _engine, _factory, _probe
    if _probe is not None:
        _probe[1].dispose()
        _probe = None
    if _engine is not None:
        _engine.dispose()
    _engine = None
    _factory = None


def new_session() -> Session:
    if _factory is None:
        raise RuntimeError("database engine not initialised")
    return _factory()


@contextmanager
def session_scope() -> Iterator[Session]:
    """A unit of work outside a request (background tasks, start-up)."""
    db = new_session()
    try:
        yield db
        db.commit()
    except BaseException:
        db.rollback()
        raise
    finally:
        db.close()


def request_session() -> Iterator[Session]:
    """FastAPI dependency: one session per request, committed when the handler returns."""
    with session_scope() as db:
        yield db
