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
        """
        -- Each job's item count per status, kept by triggers in the same transaction as the items, so
        -- reading a job's counts never scans its items (a million-item job answers as fast as a small one).
        CREATE TABLE job_counts (
            job_id          TEXT NOT NULL,
            status          INTEGER NOT NULL,
            n               INTEGER NOT NULL,
            PRIMARY KEY (job_id, status)
        ) WITHOUT ROWID;
        INSERT INTO job_counts (job_id, status, n)
            SELECT job_id, status, sum(n) FROM (
                SELECT job_id, status, count(*) AS n FROM items GROUP BY job_id, status
                UNION ALL SELECT job_id, status, sum(last_idx - first_idx + 1) FROM item_blocks GROUP BY job_id, status)
            GROUP BY job_id, status;

        CREATE TRIGGER items_counted_insert AFTER INSERT ON items BEGIN
            INSERT INTO job_counts (job_id, status, n) VALUES (NEW.job_id, NEW.status, 1)
                ON CONFLICT (job_id, status) DO UPDATE SET n = n + 1;
        END;
        CREATE TRIGGER items_counted_update AFTER UPDATE OF status ON items WHEN OLD.status <> NEW.status BEGIN
            UPDATE job_counts SET n = n - 1 WHERE job_id = OLD.job_id AND status = OLD.status;
            INSERT INTO job_counts (job_id, status, n) VALUES (NEW.job_id, NEW.status, 1)
                ON CONFLICT (job_id, status) DO UPDATE SET n = n + 1;
        END;
        CREATE TRIGGER items_counted_delete AFTER DELETE ON items BEGIN
            UPDATE job_counts SET n = n - 1 WHERE job_id = OLD.job_id AND status = OLD.status;
        END;
        CREATE TRIGGER item_blocks_counted_insert AFTER INSERT ON item_blocks BEGIN
            INSERT INTO job_counts (job_id, status, n) VALUES (NEW.job_id, NEW.status, NEW.last_idx - NEW.first_idx + 1)
                ON CONFLICT (job_id, status) DO UPDATE SET n = n + excluded.n;
        END;
        CREATE TRIGGER item_blocks_counted_update AFTER UPDATE OF status ON item_blocks WHEN OLD.status <> NEW.status BEGIN
            UPDATE job_counts SET n = n - (OLD.last_idx - OLD.first_idx + 1) WHERE job_id = OLD.job_id AND status = OLD.status;
            INSERT INTO job_counts (job_id, status, n) VALUES (NEW.job_id, NEW.status, NEW.last_idx - NEW.first_idx + 1)
                ON CONFLICT (job_id, status) DO UPDATE SET n = n + excluded.n;
        END;
        CREATE TRIGGER item_blocks_counted_delete AFTER DELETE ON item_blocks BEGIN
            UPDATE job_counts SET n = n - (OLD.last_idx - OLD.first_idx + 1) WHERE job_id = OLD.job_id AND status = OLD.status;
        END;

        -- The job list filters by status and pages newest first.
        CREATE INDEX jobs_by_status ON jobs (status, created_at);
        """,
        """
        -- Stages (JSON: each a range of the job's items with its own operation), the undo operation of a job
        -- without stages, and whether the job is rolling back (a resume then goes on compensating).
        ALTER TABLE jobs ADD COLUMN stages TEXT;
        ALTER TABLE jobs ADD COLUMN undo TEXT;
        ALTER TABLE jobs ADD COLUMN rolling_back INTEGER NOT NULL DEFAULT 0;
        """,
        """
        -- Secrets out of stored script-block definitions ($using: values holding a SecureString or named like
        -- a secret): done in code by SqliteJobStore.ScrubSecrets in this step's transaction.
        UPDATE jobs SET operation = operation WHERE 0;
        """,
        """
        -- Whether a job's streamed input had not ended when its run last stopped (JobRecord.InputIncomplete).
        ALTER TABLE jobs ADD COLUMN input_open INTEGER NOT NULL DEFAULT 0;
        """,
        """
        -- The failed attempts that were tried again (Get-BatchItem -History): why, the HTTP status, and the wait
        -- honoured before the next attempt. Rows only for retried attempts, written with the item's outcome.
        CREATE TABLE item_retries (
            job_id      TEXT NOT NULL,
            idx         INTEGER NOT NULL,
            run         INTEGER NOT NULL,
            attempt     INTEGER NOT NULL,
            error_type  TEXT NOT NULL,
            status_code INTEGER,
            message     TEXT NOT NULL,
            delay_ms    REAL NOT NULL,
            at          INTEGER NOT NULL
        );
        CREATE INDEX item_retries_by_item ON item_retries (job_id, idx);
        """,
    ];
}
