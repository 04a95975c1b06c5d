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
        """
        -- Counts per stage (Get-BatchStatistics -Stage, batchops stats --job): a staged job's stages as index
        -- ranges, and job_counts keyed by stage too, so a stage's counts are a lookup like a job's. A job
        -- without stages counts everything under stage 0. An item's stage is the one whose range holds it; a
        -- block is counted under the stage of its first item (blocks never cross a stage's end: creation and
        -- checkpoints cut them per stage). started_at/ended_at are the first start and last end a checkpoint
        -- recorded in the stage, for its rate (undo runs, statuses 6 and 7, leave them alone).
        CREATE TABLE job_stages (
            job_id          TEXT NOT NULL,
            stage           INTEGER NOT NULL,
            first_idx       INTEGER NOT NULL,
            last_idx        INTEGER NOT NULL,
            started_at      INTEGER,
            ended_at        INTEGER,
            PRIMARY KEY (job_id, stage)
        ) WITHOUT ROWID;
        INSERT INTO job_stages (job_id, stage, first_idx, last_idx)
            SELECT j.id, s.key, coalesce(json_extract(s.value, '$.firstIndex'), 0), coalesce(json_extract(s.value, '$.firstIndex'), 0) + coalesce(json_extract(s.value, '$.count'), 0) - 1
            FROM jobs j, json_each(j.stages) s WHERE j.stages IS NOT NULL;
        UPDATE job_stages SET
            started_at = (SELECT min(started_at) FROM items i WHERE i.job_id = job_stages.job_id AND i.idx BETWEEN first_idx AND last_idx AND i.status < 6),
            ended_at = (SELECT max(ended_at) FROM items i WHERE i.job_id = job_stages.job_id AND i.idx BETWEEN first_idx AND last_idx AND i.status < 6 AND i.started_at IS NOT NULL);

        DROP TRIGGER items_counted_insert;
        DROP TRIGGER items_counted_update;
        DROP TRIGGER items_counted_delete;
        DROP TRIGGER item_blocks_counted_insert;
        DROP TRIGGER item_blocks_counted_update;
        DROP TRIGGER item_blocks_counted_delete;
        DROP TABLE job_counts;
        CREATE TABLE job_counts (
            job_id          TEXT NOT NULL,
            stage           INTEGER NOT NULL,
            status          INTEGER NOT NULL,
            n               INTEGER NOT NULL,
            PRIMARY KEY (job_id, stage, status)
        ) WITHOUT ROWID;
        INSERT INTO job_counts (job_id, stage, status, n)
            SELECT job_id, stage, status, sum(n) FROM (
                SELECT i.job_id, coalesce(s.stage, 0) AS stage, i.status, count(*) AS n
                    FROM items i LEFT JOIN job_stages s ON s.job_id = i.job_id AND i.idx BETWEEN s.first_idx AND s.last_idx
                    GROUP BY i.job_id, 2, i.status
                UNION ALL SELECT b.job_id, coalesce(s.stage, 0), b.status, sum(b.last_idx - b.first_idx + 1)
                    FROM item_blocks b LEFT JOIN job_stages s ON s.job_id = b.job_id AND b.first_idx BETWEEN s.first_idx AND s.last_idx
                    GROUP BY b.job_id, 2, b.status)
            GROUP BY job_id, stage, status;

        CREATE TRIGGER items_counted_insert AFTER INSERT ON items BEGIN
            INSERT INTO job_counts (job_id, stage, status, n)
                VALUES (NEW.job_id, coalesce((SELECT stage FROM job_stages WHERE job_id = NEW.job_id AND NEW.idx BETWEEN first_idx AND last_idx), 0), NEW.status, 1)
                ON CONFLICT (job_id, stage, status) DO UPDATE SET n = n + 1;
        END;
        CREATE TRIGGER items_counted_update AFTER UPDATE OF status ON items WHEN OLD.status <> NEW.status BEGIN
            INSERT INTO job_counts (job_id, stage, status, n)
                SELECT OLD.job_id, stage, OLD.status, -1 FROM (SELECT coalesce((SELECT stage FROM job_stages WHERE job_id = OLD.job_id AND OLD.idx BETWEEN first_idx AND last_idx), 0) AS stage)
                UNION ALL
                SELECT NEW.job_id, stage, NEW.status, 1 FROM (SELECT coalesce((SELECT stage FROM job_stages WHERE job_id = NEW.job_id AND NEW.idx BETWEEN first_idx AND last_idx), 0) AS stage) WHERE true
                ON CONFLICT (job_id, stage, status) DO UPDATE SET n = n + excluded.n;
        END;
        CREATE TRIGGER items_counted_delete AFTER DELETE ON items BEGIN
            UPDATE job_counts SET n = n - 1 WHERE job_id = OLD.job_id AND status = OLD.status
                AND stage = coalesce((SELECT stage FROM job_stages WHERE job_id = OLD.job_id AND OLD.idx BETWEEN first_idx AND last_idx), 0);
        END;
        CREATE TRIGGER item_blocks_counted_insert AFTER INSERT ON item_blocks BEGIN
            INSERT INTO job_counts (job_id, stage, status, n)
                VALUES (NEW.job_id, coalesce((SELECT stage FROM job_stages WHERE job_id = NEW.job_id AND NEW.first_idx BETWEEN first_idx AND last_idx), 0),
                        NEW.status, NEW.last_idx - NEW.first_idx + 1)
                ON CONFLICT (job_id, stage, status) DO UPDATE SET n = n + excluded.n;
        END;
        CREATE TRIGGER item_blocks_counted_update AFTER UPDATE OF status ON item_blocks WHEN OLD.status <> NEW.status BEGIN
            INSERT INTO job_counts (job_id, stage, status, n)
                SELECT NEW.job_id, stage, OLD.status, OLD.first_idx - OLD.last_idx - 1 FROM (SELECT coalesce((SELECT stage FROM job_stages WHERE job_id = NEW.job_id AND NEW.first_idx BETWEEN first_idx AND last_idx), 0) AS stage)
                UNION ALL
                SELECT NEW.job_id, stage, NEW.status, NEW.last_idx - NEW.first_idx + 1 FROM (SELECT coalesce((SELECT stage FROM job_stages WHERE job_id = NEW.job_id AND NEW.first_idx BETWEEN first_idx AND last_idx), 0) AS stage) WHERE true
                ON CONFLICT (job_id, stage, status) DO UPDATE SET n = n + excluded.n;
        END;
        CREATE TRIGGER item_blocks_counted_delete AFTER DELETE ON item_blocks BEGIN
            UPDATE job_counts SET n = n - (OLD.last_idx - OLD.first_idx + 1) WHERE job_id = OLD.job_id AND status = OLD.status
                AND stage = coalesce((SELECT stage FROM job_stages WHERE job_id = OLD.job_id AND OLD.first_idx BETWEEN first_idx AND last_idx), 0);
        END;
        """,
        """
        -- Notifications: who to tell when a job ends (JSON targets, env: references only), and one
        -- row per job end and target once a sender claimed it: Sending under a lease, then Sent or Failed. A
        -- job that ends again (after a resume or retry) has a new ended_at, so its new end is told again.
        ALTER TABLE jobs ADD COLUMN notify TEXT;
        CREATE TABLE job_notices (
            job_id          TEXT NOT NULL,
            target          INTEGER NOT NULL,
            ended_at        INTEGER NOT NULL,
            status          INTEGER NOT NULL,
            attempts        INTEGER NOT NULL DEFAULT 0,
            error           TEXT,
            updated_at      INTEGER NOT NULL,
            lease_until     INTEGER NOT NULL,
            PRIMARY KEY (job_id, target, ended_at)
        ) WITHOUT ROWID;
        CREATE INDEX jobs_to_notify ON jobs (ended_at) WHERE notify IS NOT NULL;
        """,
        """
        -- Compact records: item block values may be stored packed (BlockPacking: a marker byte, the length,
        -- Brotli), and CliXml payloads without their wrapper and indentation. Rows written before stay as they
        -- are and read as before; nothing to rewrite. The version keeps older BatchOps from misreading packed rows.
        UPDATE jobs SET id = id WHERE 0;
        """,
    ];
}
