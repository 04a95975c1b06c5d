namespace BatchOps.Engine.Store;

/// <summary>
/// The store's schema as forward migrations: entry N takes a store from schema N to N+1. Never edit a
/// released entry; add one.
/// </summary>
internal static class SqliteSchema
{
    public static readonly string[] Migrations =
    [
        """
        CREATE TABLE jobs (
            id              TEXT PRIMARY KEY,
            name            TEXT NOT NULL,
            description     TEXT,
            tags            TEXT NOT NULL DEFAULT '[]',
            status          INTEGER NOT NULL,
            settings        TEXT NOT NULL DEFAULT '{}',
            operation_kind  TEXT NOT NULL,
            operation       TEXT NOT NULL,
            input_format    TEXT NOT NULL,
            output_format   TEXT NOT NULL,
            created_at      INTEGER NOT NULL,
            started_at      INTEGER,
            ended_at        INTEGER,
            message         TEXT,
            run_count       INTEGER NOT NULL DEFAULT 0,
            owner_host      TEXT,
            owner_pid       INTEGER,
            owner_started   INTEGER,
            heartbeat_at    INTEGER,
            stop_request    INTEGER
        );
        CREATE INDEX jobs_by_name ON jobs (name, created_at);
        CREATE INDEX jobs_by_created ON jobs (created_at);

        CREATE TABLE items (
            job_id          TEXT NOT NULL,
            idx             INTEGER NOT NULL,
            key             TEXT,
            input           TEXT NOT NULL,
            status          INTEGER NOT NULL,
            attempts        INTEGER NOT NULL DEFAULT 0,
            output          TEXT,
            error_type      TEXT,
            error_message   TEXT,
            error_detail    TEXT,
            error_retryable INTEGER,
            started_at      INTEGER,
            ended_at        INTEGER,
            duration_ms     REAL,
            PRIMARY KEY (job_id, idx)
        ) WITHOUT ROWID;
        CREATE INDEX items_by_status ON items (job_id, status);

        CREATE TABLE item_history (
            job_id          TEXT NOT NULL,
            idx             INTEGER NOT NULL,
            run             INTEGER NOT NULL,
            status          INTEGER NOT NULL,
            attempts        INTEGER NOT NULL,
            error_type      TEXT,
            error_message   TEXT,
            error_detail    TEXT,
            error_retryable INTEGER,
            ended_at        INTEGER
        );
        CREATE INDEX item_history_by_item ON item_history (job_id, idx);
        """,
        """
        CREATE TABLE item_blocks (
            job_id          TEXT NOT NULL,
            first_idx       INTEGER NOT NULL,
            last_idx        INTEGER NOT NULL,
            status          INTEGER NOT NULL,
            keys            TEXT,
            inputs          TEXT NOT NULL,
            outcomes        TEXT
        );
        CREATE UNIQUE INDEX item_blocks_by_range ON item_blocks (job_id, first_idx);
        """,
        """
        ALTER TABLE jobs ADD COLUMN items_file TEXT;
        ALTER TABLE item_blocks ADD COLUMN source_offset INTEGER;
        ALTER TABLE item_blocks ADD COLUMN source_length INTEGER;
        """,
    ];
}
