"""The CLI's conversation log: every exchange in a SQLite file (stdlib ``sqlite3``).

Where: ``JAATO_GITHUB_LOG_DB`` (environment, then ``.env``), else the user's data directory:
``$XDG_DATA_HOME/jaato-github-models/logs.db`` (default ``~/.local/share/...``) on Linux,
``~/Library/Application Support/jaato-github-models/logs.db`` on macOS, ``%LOCALAPPDATA%`` on
Windows. ``JAATO_GITHUB_LOG=false`` (or ``--no-log``) turns logging off.

The schema is versioned with ``PRAGMA user_version`` and upgraded by an ordered list of
migrations, each in its own transaction. The database runs in WAL mode with a busy timeout and
every write takes the write lock up front (``BEGIN IMMEDIATE``), so several CLI processes can log
to one file at once without losing rows. Any SQLite failure (corrupt file, lock held too long,
read-only directory) becomes a :class:`LogStoreError` that says which file and what to do; the
chat command reports it as a warning and goes on.

What is stored: the prompt, the reply, the model, the endpoint without user info or query (they
can hold keys), the options, usage, estimated cost, timing, tool calls and the conversation's
full history (``serialize_history``) so that ``chat -c``/``--cid`` can resume it. The token is
never stored: every text is scrubbed of it before it is written.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError

__all__ = [
    "ENV_LOG",
    "ENV_LOG_DB",
    "LogStore",
    "LogStoreError",
    "Turn",
    "default_db_path",
    "logging_enabled",
    "new_conversation_id",
]

ENV_LOG_DB = "JAATO_GITHUB_LOG_DB"
ENV_LOG = "JAATO_GITHUB_LOG"
_APP = "jaato-github-models"
_BUSY_TIMEOUT_S = 10.0
_FALSE = frozenset({"0", "false", "no", "off"})


class LogStoreError(ConfigurationError):
    """The conversation log could not be opened, read or written (corrupt, locked, no access)."""


def _setting(name: str, environ: Mapping[str, str], dotenv_path: str | None) -> str | None:
    value = environ.get(name)
    if value is None and dotenv_path:
        from dotenv import dotenv_values

        value = dotenv_values(dotenv_path).get(name)
    return value.strip() if value and value.strip() else None


def logging_enabled(environ: Mapping[str, str] | None = None,
                    dotenv_path: str | None = None) -> bool:
    """False when ``JAATO_GITHUB_LOG`` is ``0``/``false``/``no``/``off`` (environment, .env)."""
    value = _setting(ENV_LOG, os.environ if environ is None else environ, dotenv_path)
    return value is None or value.lower() not in _FALSE


def default_db_path(environ: Mapping[str, str] | None = None,
                    dotenv_path: str | None = None, platform: str | None = None) -> Path:
    """``JAATO_GITHUB_LOG_DB``, else ``logs.db`` in the platform's user data directory."""
    env = os.environ if environ is None else environ
    explicit = _setting(ENV_LOG_DB, env, dotenv_path)
    if explicit:
        return Path(explicit).expanduser()
    platform = platform or sys.platform
    home = Path(env.get("HOME") or Path.home())
    if platform == "darwin":
        base = home / "Library" / "Application Support"
    elif platform.startswith("win"):
        base = Path(env.get("LOCALAPPDATA") or home / "AppData" / "Local")
    else:
        xdg = env.get("XDG_DATA_HOME", "").strip()
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".local" / "share"
    return base / _APP / "logs.db"


def new_conversation_id() -> str:
    """Sortable by creation time: 12 hex digits of milliseconds, then 8 random ones."""
    return f"{int(time.time() * 1000):012x}{secrets.token_hex(4)}"


# Each migration takes the schema from version i to i + 1; never edit one that has shipped.
_MIGRATIONS: tuple[str, ...] = (
    # 1: conversations and their turns
    """
    CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        model TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        system TEXT,
        history TEXT NOT NULL DEFAULT '[]',
        created REAL NOT NULL,
        updated REAL NOT NULL
    );
    CREATE TABLE responses (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id TEXT NOT NULL REFERENCES conversations(id),
        model TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        prompt TEXT NOT NULL,
        system TEXT,
        response TEXT NOT NULL,
        options TEXT NOT NULL DEFAULT '{}',
        prompt_tokens INTEGER,
        output_tokens INTEGER,
        usage_estimated INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL,
        duration_ms INTEGER,
        finish_reason TEXT,
        tool_calls TEXT NOT NULL DEFAULT '[]',
        created REAL NOT NULL
    );
    CREATE INDEX responses_conversation ON responses(conversation_id, id);
    """,
    # 2: full-text search over prompts and replies, kept in step by triggers
    """
    CREATE VIRTUAL TABLE responses_fts USING fts5(
        prompt, response, content='responses', content_rowid='id');
    INSERT INTO responses_fts(rowid, prompt, response) SELECT id, prompt, response FROM responses;
    CREATE TRIGGER responses_ai AFTER INSERT ON responses BEGIN
        INSERT INTO responses_fts(rowid, prompt, response)
        VALUES (new.id, new.prompt, new.response);
    END;
    CREATE TRIGGER responses_ad AFTER DELETE ON responses BEGIN
        INSERT INTO responses_fts(responses_fts, rowid, prompt, response)
        VALUES ('delete', old.id, old.prompt, old.response);
    END;
    """,
)
SCHEMA_VERSION = len(_MIGRATIONS)


@dataclass(frozen=True)
class Turn:
    """One exchange to log. ``history`` is the conversation after it (serialized JSON)."""

    conversation_id: str
    model: str
    endpoint: str
    prompt: str
    response: str
    history: str
    system: str | None = None
    options: Mapping[str, Any] | None = None
    prompt_tokens: int | None = None
    output_tokens: int | None = None
    usage_estimated: bool = False
    cost_usd: float | None = None
    duration_ms: int | None = None
    finish_reason: str | None = None
    tool_calls: Sequence[Mapping[str, Any]] = ()


class LogStore:
    """The conversation log in one SQLite file.

    Args:
        path: The database file (its directory is created).
        scrub: Applied to every text before it is stored (masks the token).
        busy_timeout: Seconds to wait for another process's write lock.

    Raises:
        LogStoreError: The file cannot be opened, is not a database, is locked for longer than
            the busy timeout, or has a newer schema than this version understands.
    """

    def __init__(self, path: str | os.PathLike[str],
                 scrub: Callable[[str], str] | None = None,
                 busy_timeout: float = _BUSY_TIMEOUT_S) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._scrub = scrub or (lambda text: text)
        if self.path.exists() and not self.path.is_file():  # /dev/null, a folder, a FIFO
            from ..config.setting_checks import path_problem

            raise LogStoreError(f"Opening the conversation log {self.path}",
                                f"the path {path_problem(self.path)}",
                                f"point {ENV_LOG_DB} at a file (it is created if missing); "
                                f"--no-log (or {ENV_LOG}=false) chats without the log")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            _create_private(self.path)
            self._db = sqlite3.connect(self.path, timeout=busy_timeout,
                                       isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise self._error("Opening", exc) from exc
        self._db.row_factory = sqlite3.Row
        try:
            self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._migrate()
        except sqlite3.Error as exc:
            self._db.close()
            raise self._error("Opening", exc) from exc

    def _error(self, doing: str, exc: BaseException) -> LogStoreError:
        text = str(exc)
        if "locked" in text or "busy" in text:
            why = (f"another process held the database lock for more than "
                   f"{self.busy_timeout:g} s ({text})")
            fix = "try again when the other jaato-github-models process is done"
        elif "not a database" in text or "malformed" in text or "corrupt" in text:
            why = f"the file is not a readable SQLite database ({text})"
            fix = (f"move {self.path} aside to start a new log, or point {ENV_LOG_DB} at "
                   "another file")
        else:
            why = text or type(exc).__name__
            fix = (f"check that {self.path.parent} is writable, or point {ENV_LOG_DB} at "
                   "another file")
        return LogStoreError(f"{doing} the conversation log {self.path}", why,
                             f"{fix}; --no-log (or {ENV_LOG}=false) chats without the log")

    def close(self) -> None:
        """Close the database (idempotent)."""
        self._db.close()

    def __enter__(self) -> LogStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self, doing: str) -> Iterator[sqlite3.Connection]:
        """A write transaction holding the lock from its start (no lost updates)."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._error(doing, exc) from exc

    def _read(self, doing: str, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        try:
            return list(self._db.execute(sql, params))
        except sqlite3.Error as exc:
            raise self._error(doing, exc) from exc

    @property
    def schema_version(self) -> int:
        """The ``user_version`` of the file."""
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(
                f"schema version {version} is newer than this program's {SCHEMA_VERSION}")
        for target in range(version + 1, SCHEMA_VERSION + 1):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                # another process may have migrated while we waited for the lock
                if self.schema_version >= target:
                    self._db.execute("COMMIT")
                    continue
                for statement in _statements(_MIGRATIONS[target - 1]):
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {target}")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    # ---------------------------------------------------------------- writing

    def record(self, turn: Turn) -> int:
        """Store one exchange and the conversation's history after it; returns the row id.

        Raises:
            LogStoreError: The write failed.
        """
        s = self._scrub
        now = time.time()
        calls = [dict(c) for c in turn.tool_calls]
        with self._write("Writing to") as db:
            db.execute(
                "INSERT INTO conversations (id, model, endpoint, system, history, created, "
                "updated) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                "model = excluded.model, endpoint = excluded.endpoint, "
                "history = excluded.history, updated = excluded.updated",
                (turn.conversation_id, turn.model, turn.endpoint,
                 s(turn.system) if turn.system else None, s(turn.history), now, now))
            cursor = db.execute(
                "INSERT INTO responses (conversation_id, model, endpoint, prompt, system, "
                "response, options, prompt_tokens, output_tokens, usage_estimated, cost_usd, "
                "duration_ms, finish_reason, tool_calls, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (turn.conversation_id, turn.model, turn.endpoint, s(turn.prompt),
                 s(turn.system) if turn.system else None, s(turn.response),
                 s(json.dumps(dict(turn.options or {}), default=str)), turn.prompt_tokens,
                 turn.output_tokens, int(turn.usage_estimated), turn.cost_usd,
                 turn.duration_ms, turn.finish_reason, s(json.dumps(calls, default=str)), now))
            return int(cursor.lastrowid or 0)

    # ---------------------------------------------------------------- reading

    def conversation(self, cid: str | None) -> dict[str, Any] | None:
        """A conversation by id (``None``: the most recently updated one), or None.

        Raises:
            LogStoreError: The read failed.
        """
        if cid is None:
            rows = self._read("Reading", "SELECT * FROM conversations "
                                         "ORDER BY updated DESC, rowid DESC LIMIT 1")
        else:
            rows = self._read("Reading", "SELECT * FROM conversations WHERE id = ?", (cid,))
        return dict(rows[0]) if rows else None

    def responses(self, *, limit: int | None = None, conversation_id: str | None = None,
                  query: str | None = None) -> list[dict[str, Any]]:
        """Logged exchanges, newest first (``limit``), of one conversation or matching an FTS5
        ``query`` (plain words are quoted, so punctuation is safe).

        Raises:
            LogStoreError: The read failed.
        """
        where, params = [], []
        if conversation_id is not None:
            where.append("r.conversation_id = ?")
            params.append(conversation_id)
        join = ""
        if query is not None:
            join = "JOIN responses_fts f ON f.rowid = r.id"
            where.append("responses_fts MATCH ?")
            params.append(_fts_query(query))
        sql = f"SELECT r.* FROM responses r {join}"  # noqa: S608 - fixed fragments; values bound
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY r.id DESC"
        if limit is not None and limit > 0:
            sql += f" LIMIT {int(limit)}"
        rows = self._read("Searching" if query else "Reading", sql, params)
        return [_decode(dict(r)) for r in rows]


def _create_private(path: Path) -> None:
    """Create the log file readable by its owner only (0600: it holds every prompt and reply;
    SQLite gives its -wal and -shm files the same mode). An existing file is left as it is.

    Raises:
        OSError: The file cannot be created.
    """
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    from ..common.wire_check import loads_json

    for key in ("options", "tool_calls"):
        value: Any = None
        with suppress(ValueError, TypeError):  # a tampered row (deep nesting, bytes): none
            value = loads_json(row[key] or "null")
        row[key] = ({k: v for k, v in value.items()} if isinstance(value, dict) else None
                    ) if key == "options" else (
            [c for c in value if isinstance(c, dict)] if isinstance(value, list) else [])
    row["usage_estimated"] = bool(row.get("usage_estimated"))
    return row


def _fts_query(text: str) -> str:
    """Each word as an FTS5 string, so ``what's up?`` is searched, not parsed."""
    words = [w for w in text.split() if w]
    return " ".join('"' + w.replace('"', '""') + '"' for w in words) or '""'


def _statements(script: str) -> list[str]:
    """Split a migration into statements (``sqlite3.complete_statement`` keeps triggers whole)."""
    out, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    if current.strip():
        out.append(current.strip())
    return out
