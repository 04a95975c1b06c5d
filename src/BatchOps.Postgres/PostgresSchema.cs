namespace BatchOps.Postgres;

/// <summary>
/// The PostgreSQL store's schema as forward migrations, all in the schema <c>batchops</c> so the store can
/// share a database with anything else: entry N takes a store from version N to N+1. Never edit a released
/// entry; add one.
/// </summary>
internal static class PostgresSchema
{
    public const string Name = "batchops";

    public static readonly string[] Migrations =
    [
        """
        CREATE TABLE batchops.jobs (
            id              text PRIMARY KEY,
            seq             bigint GENERATED ALWAYS AS IDENTITY,
            name            text NOT NULL,
            description     text,
            tags            jsonb NOT NULL DEFAULT '[]',
            status          integer NOT NULL,
            settings        text NOT NULL DEFAULT '{}',
            operation_kind  text NOT NULL,
            operation       text NOT NULL,
            input_format    text NOT NULL,
            output_format   text NOT NULL,
            created_at      timestamptz NOT NULL,
            started_at      timestamptz,
            ended_at        timestamptz,
            message         text,
            run_count       integer NOT NULL DEFAULT 0,
            owner_host      text,
            owner_pid       integer,
            owner_started   bigint,
            heartbeat_at    timestamptz,
            stop_request    integer,
            items_file      text,
            stages          text,
            undo            text,
            rolling_back    boolean NOT NULL DEFAULT false,
            -- Queued for workers: chunks are claimed from job_chunks instead of one owner holding a lease.
            queued          boolean NOT NULL DEFAULT false,
            run_failures    integer NOT NULL DEFAULT 0,
            stop_reason     text
        );
        CREATE INDEX jobs_by_created ON batchops.jobs (created_at DESC, seq DESC);
        CREATE INDEX jobs_by_status ON batchops.jobs (status, created_at DESC);
        CREATE INDEX jobs_by_name ON batchops.jobs (lower(name), created_at DESC);

        CREATE TABLE batchops.items (
            job_id          text NOT NULL,
            idx             bigint NOT NULL,
            key             text,
            input           text NOT NULL,
            status          smallint NOT NULL,
            attempts        integer NOT NULL DEFAULT 0,
            output          text,
            error_type      text,
            error_message   text,
            error_detail    text,
            error_retryable boolean,
            started_at      timestamptz,
            ended_at        timestamptz,
            duration_ms     double precision,
            PRIMARY KEY (job_id, idx)
        );
        CREATE INDEX items_by_status ON batchops.items (job_id, status, idx);

        CREATE TABLE batchops.item_history (
            id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            job_id          text NOT NULL,
            idx             bigint NOT NULL,
            run             integer NOT NULL,
            status          smallint NOT NULL,
            attempts        integer NOT NULL,
            error_type      text,
            error_message   text,
            error_detail    text,
            error_retryable boolean,
            ended_at        timestamptz
        );
        CREATE INDEX item_history_by_item ON batchops.item_history (job_id, idx);

        -- Each job's item count per status, kept by statement triggers in the writing transaction: reading a
        -- job never scans its items. Rows are changed in (job, status) order so concurrent writers of one job
        -- take their locks in the same order.
        CREATE TABLE batchops.job_counts (
            job_id          text NOT NULL,
            status          smallint NOT NULL,
            n               bigint NOT NULL,
            PRIMARY KEY (job_id, status)
        );

        CREATE FUNCTION batchops.count_items() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO batchops.job_counts AS c (job_id, status, n)
                    SELECT job_id, status, count(*) FROM new_rows GROUP BY job_id, status ORDER BY job_id, status
                    ON CONFLICT (job_id, status) DO UPDATE SET n = c.n + excluded.n;
            ELSIF TG_OP = 'UPDATE' THEN
                INSERT INTO batchops.job_counts AS c (job_id, status, n)
                    SELECT job_id, status, sum(d)::bigint FROM (
                        SELECT job_id, status, count(*) AS d FROM new_rows GROUP BY job_id, status
                        UNION ALL
                        SELECT job_id, status, -count(*) FROM old_rows GROUP BY job_id, status) AS changes
                    GROUP BY job_id, status HAVING sum(d) <> 0 ORDER BY job_id, status
                    ON CONFLICT (job_id, status) DO UPDATE SET n = c.n + excluded.n;
            ELSE
                INSERT INTO batchops.job_counts AS c (job_id, status, n)
                    SELECT job_id, status, -count(*) FROM old_rows GROUP BY job_id, status ORDER BY job_id, status
                    ON CONFLICT (job_id, status) DO UPDATE SET n = c.n + excluded.n;
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER items_counted_insert AFTER INSERT ON batchops.items
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION batchops.count_items();
        CREATE TRIGGER items_counted_update AFTER UPDATE ON batchops.items
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION batchops.count_items();
        CREATE TRIGGER items_counted_delete AFTER DELETE ON batchops.items
            REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION batchops.count_items();

        -- The queue: a queued job's unclaimed and claimed chunks. A chunk's row is deleted in the transaction
        -- that records its outcomes, so the table only ever holds work not yet done (small, and its dead rows
        -- are few: two updates per chunk). Claims are committed at once; no transaction stays open while
        -- items run, so workers never hold back vacuum.
        CREATE TABLE batchops.job_chunks (
            job_id          text NOT NULL,
            first_idx       bigint NOT NULL,
            last_idx        bigint NOT NULL,
            claimed         boolean NOT NULL DEFAULT false,
            worker          text,
            token           bigint,
            lease_until     timestamptz,
            claims          integer NOT NULL DEFAULT 0,
            PRIMARY KEY (job_id, first_idx)
        ) WITH (fillfactor = 70);
        CREATE SEQUENCE batchops.claim_tokens;

        -- The next start slot of each queued job with a rate limit, shared by every worker.
        CREATE TABLE batchops.job_rates (
            job_id          text PRIMARY KEY,
            next_at         timestamptz NOT NULL
        );
        """,
        """
        -- Consecutive items that succeeded in one checkpoint, kept as one row of arrays (element k is item
        -- first_idx + k) instead of one row each: a chunk's success costs one insert, not an update per item.
        -- Their status is Succeeded; an index is in items or in a block, never both. A block is written back
        -- out as rows before anything else changes its items (undo, a checkpoint over them).
        CREATE TABLE batchops.item_blocks (
            job_id          text NOT NULL,
            first_idx       bigint NOT NULL,
            last_idx        bigint NOT NULL,
            keys            text[] NOT NULL,
            inputs          text[] NOT NULL,
            attempts        integer[] NOT NULL,
            outputs         text[] NOT NULL,
            started_at      timestamptz[] NOT NULL,
            ended_at        timestamptz[] NOT NULL,
            duration_ms     double precision[] NOT NULL,
            PRIMARY KEY (job_id, first_idx)
        ) WITH (toast_tuple_target = 8160); -- a 100-item block (about 4 kB) stays in its row, uncompressed

        -- Moves a checkpoint's run of successes out of items into one block and counts it, or fails with BOBLK
        -- (undoing the delete with the whole batch) when they were not all rows, so the caller writes them
        -- row by row instead. The rows' delete trigger locks the (job, Pending) count before this locks the
        -- (job, Succeeded) one: every writer takes them in status order.
        CREATE FUNCTION batchops.move_to_block(p_job text, p_first bigint, p_last bigint, p_attempts integer[], p_outputs text[],
                                               p_started timestamptz[], p_ended timestamptz[], p_durations double precision[]) RETURNS void LANGUAGE plpgsql AS $$
        DECLARE
            moved bigint;
        BEGIN
            WITH gone AS (DELETE FROM batchops.items WHERE job_id = p_job AND idx BETWEEN p_first AND p_last RETURNING idx, key, input)
            INSERT INTO batchops.item_blocks (job_id, first_idx, last_idx, keys, inputs, attempts, outputs, started_at, ended_at, duration_ms)
            SELECT p_job, p_first, p_last, array_agg(key ORDER BY idx), array_agg(input ORDER BY idx), p_attempts, p_outputs, p_started, p_ended, p_durations
            FROM gone HAVING count(*) = p_last - p_first + 1;
            GET DIAGNOSTICS moved = ROW_COUNT;
            IF moved = 0 THEN
                RAISE EXCEPTION 'items % to % of job % are not all rows', p_first, p_last, p_job USING ERRCODE = 'BOBLK';
            END IF;
            INSERT INTO batchops.job_counts AS c (job_id, status, n) VALUES (p_job, 2, p_last - p_first + 1)
                ON CONFLICT (job_id, status) DO UPDATE SET n = c.n + excluded.n;
        END $$;

        -- Ends a claim (deletes its chunk) or fails with BOCLM when another worker holds it now: the first
        -- statement of the batch that records the chunk, so a late worker's outcomes roll back with it.
        CREATE FUNCTION batchops.end_claim(p_job text, p_first bigint, p_token bigint) RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM batchops.job_chunks WHERE job_id = p_job AND first_idx = p_first AND token = p_token;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'chunk % of job % is claimed by another worker now', p_first, p_job USING ERRCODE = 'BOCLM';
            END IF;
        END $$;
        """,
        """
        -- New items are recorded as Pending blocks too, one per chunk (as the SQLite store does): a block's
        -- status is Pending or Succeeded, and a Pending block has no outcomes yet (those arrays are NULL).
        -- A chunk that succeeds whole then changes one row, instead of moving a hundred.
        -- (The default is what every block was before, and what batchops.move_to_block still makes.)
        ALTER TABLE batchops.item_blocks ADD COLUMN status smallint NOT NULL DEFAULT 2,
            ALTER COLUMN attempts DROP NOT NULL, ALTER COLUMN outputs DROP NOT NULL, ALTER COLUMN started_at DROP NOT NULL,
            ALTER COLUMN ended_at DROP NOT NULL, ALTER COLUMN duration_ms DROP NOT NULL;
        -- A resume's read of what is left and the queue's chunking find Pending blocks without walking the done ones.
        CREATE INDEX item_blocks_pending ON batchops.item_blocks (job_id, first_idx) WHERE status = 0;

        -- Records a checkpoint's run of successes as one Succeeded block: the Pending block that is exactly
        -- that run changes in place, or else their rows move into a new block (batchops.move_to_block, which
        -- fails with BOBLK when they are not all rows). Counts change in status order, as everywhere.
        CREATE FUNCTION batchops.succeed_block(p_job text, p_first bigint, p_last bigint, p_attempts integer[], p_outputs text[],
                                               p_started timestamptz[], p_ended timestamptz[], p_durations double precision[]) RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE batchops.item_blocks SET status = 2, attempts = p_attempts, outputs = p_outputs, started_at = p_started, ended_at = p_ended, duration_ms = p_durations
                WHERE job_id = p_job AND first_idx = p_first AND last_idx = p_last AND status = 0;
            IF FOUND THEN
                INSERT INTO batchops.job_counts AS c (job_id, status, n) VALUES (p_job, 0, p_first - p_last - 1), (p_job, 2, p_last - p_first + 1)
                    ON CONFLICT (job_id, status) DO UPDATE SET n = c.n + excluded.n;
            ELSE
                PERFORM batchops.move_to_block(p_job, p_first, p_last, p_attempts, p_outputs, p_started, p_ended, p_durations);
            END IF;
        END $$;
        """,
        """
        -- Staged jobs are queued too: a chunk belongs to one stage (NULL for a job without stages) and carries
        -- the stage's operation kind, which workers filter on.
        ALTER TABLE batchops.job_chunks ADD COLUMN stage text, ADD COLUMN kind text;
        UPDATE batchops.job_chunks c SET kind = j.operation_kind FROM batchops.jobs j WHERE j.id = c.job_id;
        ALTER TABLE batchops.job_chunks ALTER COLUMN kind SET NOT NULL;
        -- The chunks of stages waiting for the stages they depend on to complete, moved into job_chunks when
        -- their stage opens. Kept apart so that claims never filter them out: a filter there made the planner
        -- sort every chunk of a job at every claim.
        CREATE TABLE batchops.waiting_chunks (
            job_id          text NOT NULL,
            first_idx       bigint NOT NULL,
            last_idx        bigint NOT NULL,
            stage           text NOT NULL,
            kind            text NOT NULL,
            PRIMARY KEY (job_id, first_idx)
        );
        -- The jobs workers look at (queued, Queued or Running), found without walking the whole history.
        CREATE INDEX jobs_queued ON batchops.jobs (created_at, seq) WHERE queued AND status IN (1, 9);
        """,
        """
        -- The running workers, each renewing its row (seen_at) every few seconds; a row not seen for longer
        -- than its lease is a worker that went missing. Rows are deleted when a worker stops, and a day after
        -- it was last seen.
        CREATE TABLE batchops.workers (
            id              text PRIMARY KEY,
            name            text NOT NULL,
            host            text NOT NULL,
            pid             integer NOT NULL,
            kinds           text[] NOT NULL,
            concurrency     integer NOT NULL,
            lease_ms        bigint NOT NULL,
            started_at      timestamptz NOT NULL,
            seen_at         timestamptz NOT NULL,
            chunks          bigint NOT NULL
        );
        """,
        """
        -- A stop asked of a running worker (batchops workers stop, Stop-BatchWorker): the worker reads it at
        -- its next presence beat, claims nothing more and finishes the chunks it holds.
        ALTER TABLE batchops.workers ADD COLUMN stop_asked_at timestamptz;
        """,
        """
        -- Secrets out of stored script-block definitions ($using: values holding a SecureString or named like
        -- a secret): done in code by PostgresJobStore.ScrubSecrets in this step's transaction.
        SELECT 1;
        """,
        """
        -- Whether a job's streamed input had not ended when its run last stopped (JobRecord.InputIncomplete).
        ALTER TABLE batchops.jobs ADD COLUMN input_open boolean NOT NULL DEFAULT false;
        """,
        """
        -- The failed attempts that were tried again (Get-BatchItem -History): why, the HTTP status, and the wait
        -- honoured before the next attempt. Rows only for retried attempts, written with the item's outcome.
        CREATE TABLE batchops.item_retries (
            id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            job_id      text NOT NULL,
            idx         bigint NOT NULL,
            run         integer NOT NULL,
            attempt     integer NOT NULL,
            error_type  text NOT NULL,
            status_code integer,
            message     text NOT NULL,
            delay_ms    double precision NOT NULL,
            at          timestamptz NOT NULL
        );
        CREATE INDEX item_retries_by_item ON batchops.item_retries (job_id, idx);
        """,
        """
        -- Counts per stage (Get-BatchStatistics -Stage, batchops stats --job): a staged job's stages as index
        -- ranges, and job_counts keyed by stage too, so a stage's counts are a lookup like a job's. A job
        -- without stages counts everything under stage 0. A block counts under the stage of its first item
        -- (blocks never cross a stage's end: creation and checkpoints cut them per stage). Count rows are
        -- changed in (job, stage, status) order. started_at/ended_at: the first start and last end a
        -- checkpoint recorded in the stage, for its rate (undo runs, statuses 6 and 7, leave them alone).
        CREATE TABLE batchops.job_stages (
            job_id          text NOT NULL,
            stage           integer NOT NULL,
            first_idx       bigint NOT NULL,
            last_idx        bigint NOT NULL,
            started_at      timestamptz,
            ended_at        timestamptz,
            PRIMARY KEY (job_id, stage)
        );
        INSERT INTO batchops.job_stages (job_id, stage, first_idx, last_idx)
            SELECT j.id, s.ord - 1, coalesce((s.value ->> 'firstIndex')::bigint, 0),
                   coalesce((s.value ->> 'firstIndex')::bigint, 0) + coalesce((s.value ->> 'count')::bigint, 0) - 1
            FROM batchops.jobs j CROSS JOIN LATERAL jsonb_array_elements(j.stages::jsonb) WITH ORDINALITY AS s(value, ord)
            WHERE j.stages IS NOT NULL;
        UPDATE batchops.job_stages s SET
            started_at = (SELECT min(t) FROM (SELECT started_at AS t FROM batchops.items i WHERE i.job_id = s.job_id AND i.idx BETWEEN s.first_idx AND s.last_idx AND i.status < 6
                          UNION ALL SELECT unnest(b.started_at) FROM batchops.item_blocks b WHERE b.job_id = s.job_id AND b.first_idx BETWEEN s.first_idx AND s.last_idx) AS x),
            ended_at = (SELECT max(t) FROM (SELECT ended_at AS t FROM batchops.items i WHERE i.job_id = s.job_id AND i.idx BETWEEN s.first_idx AND s.last_idx AND i.status < 6 AND i.started_at IS NOT NULL
                        UNION ALL SELECT unnest(b.ended_at) FROM batchops.item_blocks b WHERE b.job_id = s.job_id AND b.first_idx BETWEEN s.first_idx AND s.last_idx) AS x);

        CREATE FUNCTION batchops.stage_of(p_job text, p_idx bigint) RETURNS integer LANGUAGE sql STABLE AS $$
            SELECT coalesce((SELECT stage FROM batchops.job_stages WHERE job_id = p_job AND p_idx BETWEEN first_idx AND last_idx), 0)
        $$;

        ALTER TABLE batchops.job_counts ADD COLUMN stage integer NOT NULL DEFAULT 0;
        ALTER TABLE batchops.job_counts DROP CONSTRAINT job_counts_pkey;
        DELETE FROM batchops.job_counts WHERE job_id IN (SELECT job_id FROM batchops.job_stages);
        INSERT INTO batchops.job_counts (job_id, stage, status, n)
            SELECT job_id, stage, status, sum(n) FROM (
                SELECT i.job_id, batchops.stage_of(i.job_id, i.idx) AS stage, i.status, count(*) AS n FROM batchops.items i
                    WHERE i.job_id IN (SELECT job_id FROM batchops.job_stages) GROUP BY 1, 2, 3
                UNION ALL
                SELECT b.job_id, batchops.stage_of(b.job_id, b.first_idx), b.status, sum(b.last_idx - b.first_idx + 1) FROM batchops.item_blocks b
                    WHERE b.job_id IN (SELECT job_id FROM batchops.job_stages) GROUP BY 1, 2, 3) AS counted
            GROUP BY job_id, stage, status;
        ALTER TABLE batchops.job_counts ADD PRIMARY KEY (job_id, stage, status);

        CREATE OR REPLACE FUNCTION batchops.count_items() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO batchops.job_counts AS c (job_id, stage, status, n)
                    SELECT r.job_id, coalesce(s.stage, 0), r.status, count(*) FROM new_rows r
                        LEFT JOIN batchops.job_stages s ON s.job_id = r.job_id AND r.idx BETWEEN s.first_idx AND s.last_idx
                    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
                    ON CONFLICT (job_id, stage, status) DO UPDATE SET n = c.n + excluded.n;
            ELSIF TG_OP = 'UPDATE' THEN
                INSERT INTO batchops.job_counts AS c (job_id, stage, status, n)
                    SELECT job_id, stage, status, sum(d)::bigint FROM (
                        SELECT r.job_id, coalesce(s.stage, 0) AS stage, r.status, count(*) AS d FROM new_rows r
                            LEFT JOIN batchops.job_stages s ON s.job_id = r.job_id AND r.idx BETWEEN s.first_idx AND s.last_idx GROUP BY 1, 2, 3
                        UNION ALL
                        SELECT r.job_id, coalesce(s.stage, 0), r.status, -count(*) FROM old_rows r
                            LEFT JOIN batchops.job_stages s ON s.job_id = r.job_id AND r.idx BETWEEN s.first_idx AND s.last_idx GROUP BY 1, 2, 3) AS changes
                    GROUP BY job_id, stage, status HAVING sum(d) <> 0 ORDER BY job_id, stage, status
                    ON CONFLICT (job_id, stage, status) DO UPDATE SET n = c.n + excluded.n;
            ELSE
                INSERT INTO batchops.job_counts AS c (job_id, stage, status, n)
                    SELECT r.job_id, coalesce(s.stage, 0), r.status, -count(*) FROM old_rows r
                        LEFT JOIN batchops.job_stages s ON s.job_id = r.job_id AND r.idx BETWEEN s.first_idx AND s.last_idx
                    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
                    ON CONFLICT (job_id, stage, status) DO UPDATE SET n = c.n + excluded.n;
            END IF;
            RETURN NULL;
        END $$;

        CREATE OR REPLACE FUNCTION batchops.move_to_block(p_job text, p_first bigint, p_last bigint, p_attempts integer[], p_outputs text[],
                                                          p_started timestamptz[], p_ended timestamptz[], p_durations double precision[]) RETURNS void LANGUAGE plpgsql AS $$
        DECLARE
            moved bigint;
        BEGIN
            WITH gone AS (DELETE FROM batchops.items WHERE job_id = p_job AND idx BETWEEN p_first AND p_last RETURNING idx, key, input)
            INSERT INTO batchops.item_blocks (job_id, first_idx, last_idx, keys, inputs, attempts, outputs, started_at, ended_at, duration_ms)
            SELECT p_job, p_first, p_last, array_agg(key ORDER BY idx), array_agg(input ORDER BY idx), p_attempts, p_outputs, p_started, p_ended, p_durations
            FROM gone HAVING count(*) = p_last - p_first + 1;
            GET DIAGNOSTICS moved = ROW_COUNT;
            IF moved = 0 THEN
                RAISE EXCEPTION 'items % to % of job % are not all rows', p_first, p_last, p_job USING ERRCODE = 'BOBLK';
            END IF;
            INSERT INTO batchops.job_counts AS c (job_id, stage, status, n) VALUES (p_job, batchops.stage_of(p_job, p_first), 2, p_last - p_first + 1)
                ON CONFLICT (job_id, stage, status) DO UPDATE SET n = c.n + excluded.n;
        END $$;

        CREATE OR REPLACE FUNCTION batchops.succeed_block(p_job text, p_first bigint, p_last bigint, p_attempts integer[], p_outputs text[],
                                                          p_started timestamptz[], p_ended timestamptz[], p_durations double precision[]) RETURNS void LANGUAGE plpgsql AS $$
        DECLARE
            at_stage integer;
        BEGIN
            UPDATE batchops.item_blocks SET status = 2, attempts = p_attempts, outputs = p_outputs, started_at = p_started, ended_at = p_ended, duration_ms = p_durations
                WHERE job_id = p_job AND first_idx = p_first AND last_idx = p_last AND status = 0;
            IF FOUND THEN
                at_stage := batchops.stage_of(p_job, p_first);
                INSERT INTO batchops.job_counts AS c (job_id, stage, status, n) VALUES (p_job, at_stage, 0, p_first - p_last - 1), (p_job, at_stage, 2, p_last - p_first + 1)
                    ON CONFLICT (job_id, stage, status) DO UPDATE SET n = c.n + excluded.n;
            ELSE
                PERFORM batchops.move_to_block(p_job, p_first, p_last, p_attempts, p_outputs, p_started, p_ended, p_durations);
            END IF;
        END $$;
        """,
        """
        -- Notifications: who to tell when a job ends (JSON targets, env: references only), and one row per job
        -- end and target once a sender claimed it: Sending under a lease, then Sent or Failed.
        ALTER TABLE batchops.jobs ADD COLUMN notify text;
        CREATE TABLE batchops.job_notices (
            job_id          text NOT NULL,
            target          integer NOT NULL,
            ended_at        timestamptz NOT NULL,
            status          integer NOT NULL,
            attempts        integer NOT NULL DEFAULT 0,
            error           text,
            updated_at      timestamptz NOT NULL,
            lease_until     timestamptz NOT NULL,
            PRIMARY KEY (job_id, target, ended_at)
        );
        CREATE INDEX jobs_to_notify ON batchops.jobs (ended_at) WHERE notify IS NOT NULL;
        """,
        """
        -- Compact records: an item block's arrays (inputs, outputs, times) are compressed and kept out of line
        -- from 128 bytes on, not only past 2 KB. A 100-item block of compact payloads is 2-6 KB, so at the
        -- default one row filled a page by itself (84 bytes an item whatever it held); now its arrays are
        -- compressed into the TOAST table's shared pages (about 31 bytes an item). Rows written before stay
        -- as they are until rewritten (VACUUM FULL).
        ALTER TABLE batchops.item_blocks SET (toast_tuple_target = 128);
        """,
    ];
}
