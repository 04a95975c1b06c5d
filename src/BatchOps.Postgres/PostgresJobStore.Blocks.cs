using System.Globalization;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using Npgsql;
using NpgsqlTypes;

namespace BatchOps.Postgres;

/// <summary>
/// Item blocks: a chunk's items kept as one row of arrays in <c>item_blocks</c> (element k is item
/// first_idx + k). New items are recorded as one Pending block per chunk (schema 3), and a chunk that
/// succeeds whole turns its block Succeeded in place: one row changed instead of a hundred. Consecutive
/// successes that were rows move into a new Succeeded block (schema 2). Blocks are only ever Pending or
/// Succeeded; everything else (failures, retries, a partly recorded block) is in <c>items</c>, and an index
/// is in one place or the other. A block is written back out as rows before anything else changes its
/// items (undo, a checkpoint over part of it), and every read merges the two in index order within one
/// statement (one snapshot).
/// </summary>
/// <remarks>
/// A checkpoint's fast path does not look for blocks first: <c>batchops.succeed_block</c> finds the run's
/// Pending block or its rows; when it finds neither, it fails and the checkpoint runs again the careful
/// way (blocks written out, rows updated).
/// </remarks>
public sealed partial class PostgresJobStore
{
    /// <summary>Fewest consecutive succeeded items a checkpoint keeps as a block; smaller runs stay rows.</summary>
    private const int MinBlock = 8;

    /// <summary>Most blocks one page of a read looks at.</summary>
    private const int BlockPage = 16;

    /// <summary>A block's columns, named (no <c>*</c>: a prepared statement must not change shape when a later schema adds one).</summary>
    private const string BlockColumns = "job_id, first_idx, last_idx, status, keys, inputs, attempts, outputs, started_at, ended_at, duration_ms";

    /// <summary>
    /// Writes the blocks that hold any index in [$2, $3] back out as rows of their status (a Pending block's
    /// items with no outcomes). Their count moves from the block to the rows' insert trigger, so the
    /// explicit decrement (in status order, as every writer of counts) keeps the job's counts right.
    /// </summary>
    private const string ExpandBlocks =
        "WITH gone AS (" +
        "  DELETE FROM batchops.item_blocks b WHERE b.job_id = $1 AND b.first_idx <= $3 AND b.last_idx >= $2 " +
        "    AND b.first_idx >= coalesce((SELECT max(first_idx) FROM batchops.item_blocks WHERE job_id = $1 AND first_idx <= $2), $2) " +
        "  RETURNING " + BlockColumns + "), " +
        "written AS (" +
        "  INSERT INTO batchops.items (job_id, idx, key, input, status, attempts, output, started_at, ended_at, duration_ms) " +
        "  SELECT g.job_id, g.first_idx + u.n - 1, u.key, u.input, g.status, coalesce(u.attempts, 0), u.output, u.started_at, u.ended_at, u.duration_ms " +
        "  FROM gone g CROSS JOIN LATERAL unnest(g.keys, g.inputs, g.attempts, g.outputs, g.started_at, g.ended_at, g.duration_ms) " +
        "    WITH ORDINALITY AS u(key, input, attempts, output, started_at, ended_at, duration_ms, n) ORDER BY 2) " +
        "INSERT INTO batchops.job_counts AS c (job_id, stage, status, n) " +
        "SELECT $1, batchops.stage_of($1, first_idx), status, -sum(last_idx - first_idx + 1) FROM gone GROUP BY 2, 3 ORDER BY 2, 3 " +
        "ON CONFLICT (job_id, stage, status) DO UPDATE SET n = c.n + excluded.n";

    /// <summary>SQLSTATE of <c>batchops.succeed_block</c> when a run's items were neither one Pending block nor all rows.</summary>
    private const string NotAllRows = "BOBLK";

    /// <summary>Whether sorted outcomes can be kept as one block: enough of them, consecutive, all succeeded.</summary>
    private static bool IsBlock(ItemOutcome[] sorted)
    {
        if (sorted.Length < MinBlock || sorted[^1].Index - sorted[0].Index + 1 != sorted.Length)
        {
            return false;
        }

        foreach (var outcome in sorted)
        {
            if (outcome.Status != ItemStatus.Succeeded || outcome.Error is not null)
            {
                return false;
            }
        }

        return true;
    }

    private static NpgsqlBatchCommand Expand(string jobId, long first, long last)
    {
        var command = new NpgsqlBatchCommand(ExpandBlocks);
        command.Parameters.Add(new() { Value = jobId });
        command.Parameters.Add(new() { Value = first });
        command.Parameters.Add(new() { Value = last });
        return command;
    }

    /// <summary>Writes the blocks holding any index in [first, last] back out as rows, in the caller's transaction.</summary>
    private static async Task ExpandAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string jobId, long first, long last, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction);
        batch.BatchCommands.Add(Expand(jobId, first, last));
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Adds the recording of sorted, consecutive, succeeded outcomes as one Succeeded block, counted (<c>batchops.succeed_block</c>).</summary>
    private static void AddSucceedBlock(NpgsqlBatch batch, string jobId, ItemOutcome[] sorted)
    {
        var move = new NpgsqlBatchCommand("SELECT batchops.succeed_block($1, $2, $3, $4, $5, $6, $7, $8)");
        var p = move.Parameters;
        p.Add(new() { Value = jobId });
        p.Add(new() { Value = sorted[0].Index });
        p.Add(new() { Value = sorted[^1].Index });
        p.Add(new() { Value = sorted.Select(o => o.Attempts).ToArray() });
        p.Add(new() { Value = sorted.Select(o => o.Output).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        p.Add(new() { Value = sorted.Select(o => (DateTime?)o.StartedAt?.UtcDateTime).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        p.Add(new() { Value = sorted.Select(o => o.EndedAt.UtcDateTime).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        p.Add(new() { Value = sorted.Select(o => o.Duration.TotalMilliseconds).ToArray() });
        batch.BatchCommands.Add(move);
    }

    /// <summary>
    /// Runs a batch that records outcomes, built first with their run of successes recorded as a block, and
    /// built once more without (rows written one by one) when the server found those items were neither
    /// their own Pending block nor all rows. Either attempt is one round trip and one transaction; the
    /// first one's changes are gone when it fails.
    /// </summary>
    private static async Task ExecuteCheckpointAsync(NpgsqlConnection connection, Action<NpgsqlBatch, bool> build, CancellationToken cancellationToken)
    {
        await using (var batch = new NpgsqlBatch(connection))
        {
            build(batch, true);
            try
            {
                await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (PostgresException error) when (error.SqlState == NotAllRows)
            {
            }
        }

        await using var rows = new NpgsqlBatch(connection);
        build(rows, false);
        await rows.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// One page of a read: up to <see cref="PageSize"/> rows after $2 (through $3) and, when Pending or
    /// Succeeded items are wanted, the blocks of those statuses that overlap that range, expanded, with one
    /// marker per block looked at (source 2: expanded, 3: looked at but left for the next page). Source is
    /// the last column.
    /// </summary>
    private static string PageSql(ItemQuery query)
    {
        // The statuses are written into the statement, not bound: a prepared statement's generic plan then
        // still knows a rare status from a common one (bound, it read a thousand failed items of a
        // million-item job by walking all its rows: 0.5 s instead of 2 ms).
        var statuses = query.Statuses is { Count: > 0 } wanted
            ? $" AND status IN ({string.Join(", ", wanted.Select(s => ((short)s).ToString(CultureInfo.InvariantCulture)).Distinct().Order())})"
            : string.Empty;
        var indexes = query.Indexes is not null ? " AND idx = ANY($5)" : string.Empty;
        var columns = query.InputsOnly ? "idx, key, input" : ItemColumns;
        var rows = $"SELECT {columns}, 0 FROM (SELECT {columns} FROM batchops.items WHERE job_id = $1 AND idx > $2 AND idx <= $3{statuses}{indexes} ORDER BY idx LIMIT {PageSize}) AS r";
        var blockStatuses = string.Empty;
        if (query.Statuses is { Count: > 0 } only)
        {
            var pending = only.Contains(ItemStatus.Pending);
            var succeeded = only.Contains(ItemStatus.Succeeded);
            if (!pending && !succeeded)
            {
                return rows;
            }

            blockStatuses = pending && succeeded ? string.Empty : $" AND status = {(pending ? (short)ItemStatus.Pending : (short)ItemStatus.Succeeded)}";
        }

        var holds = query.Indexes is not null ? " AND EXISTS (SELECT 1 FROM unnest($5::bigint[]) AS w(i) WHERE w.i BETWEEN first_idx AND last_idx)" : string.Empty;
        var (unnest, blockColumns, markerColumns) = query.InputsOnly
            ? ("unnest(b.keys, b.inputs) WITH ORDINALITY AS u(key, input, n)", "b.first_idx + u.n - 1, u.key, u.input", "NULL::text, NULL::text")
            : ("unnest(b.keys, b.inputs, b.attempts, b.outputs, b.started_at, b.ended_at, b.duration_ms) WITH ORDINALITY AS u(key, input, attempts, output, started_at, ended_at, duration_ms, n)",
                "b.first_idx + u.n - 1, u.key, u.input, b.status, coalesce(u.attempts, 0), u.output, NULL::text, NULL::text, NULL::text, NULL::boolean, u.started_at, u.ended_at, u.duration_ms",
                "NULL::text, NULL::text, NULL::smallint, NULL::integer, NULL::text, NULL::text, NULL::text, NULL::text, NULL::boolean, NULL::timestamptz, NULL::timestamptz, NULL::double precision");
        return
            $"WITH near AS (SELECT {BlockColumns} FROM (" +
            $"  (SELECT {BlockColumns} FROM batchops.item_blocks WHERE job_id = $1 AND first_idx <= $2{holds} ORDER BY first_idx DESC LIMIT 1) " +
            $"  UNION ALL (SELECT {BlockColumns} FROM batchops.item_blocks WHERE job_id = $1 AND first_idx > $2 AND first_idx <= $3{blockStatuses}{holds} ORDER BY first_idx LIMIT {BlockPage})) AS c " +
            $"  WHERE last_idx > $2{blockStatuses} ORDER BY first_idx LIMIT {BlockPage}), " +
            // A page expands blocks until it holds a page's worth of items (at least one block).
            $"b AS (SELECT {BlockColumns}, coalesce(sum(last_idx - first_idx + 1) OVER (ORDER BY first_idx ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) " +
            $"  < {PageSize} AS expanded FROM near) " +
            $"{rows} " +
            $"UNION ALL SELECT {blockColumns}, 1 FROM b CROSS JOIN LATERAL {unnest} " +
            $"WHERE b.expanded AND b.first_idx + u.n - 1 > $2 AND b.first_idx + u.n - 1 <= $3{(query.Indexes is not null ? " AND b.first_idx + u.n - 1 = ANY($5)" : string.Empty)} " +
            $"UNION ALL SELECT b.last_idx, {markerColumns}, CASE WHEN b.expanded THEN 2 ELSE 3 END FROM b";
    }

    /// <summary>
    /// Merges one page's rows and expanded block items in index order, keeping only what the page covers
    /// for certain: up to the last row when the rows filled the page, up to the last expanded block when
    /// blocks were left for the next page. Returns the index the next page starts after, or null at the end.
    /// </summary>
    private static long? MergePage(List<StoredItem> rows, List<StoredItem> blockItems, List<(long Last, bool Expanded)> markers, long last, List<StoredItem> page)
    {
        var horizon = last;
        var more = false;
        if (rows.Count == PageSize)
        {
            horizon = Math.Min(horizon, rows[^1].Index);
            more = true;
        }

        if (markers.Count == BlockPage || markers.Exists(m => !m.Expanded))
        {
            horizon = Math.Min(horizon, markers.Where(m => m.Expanded).Max(m => m.Last));
            more = true;
        }

        rows.Sort(static (a, b) => a.Index.CompareTo(b.Index));
        blockItems.Sort(static (a, b) => a.Index.CompareTo(b.Index));
        int r = 0, k = 0;
        while (true)
        {
            var fromRows = r < rows.Count && rows[r].Index <= horizon;
            var fromBlocks = k < blockItems.Count && blockItems[k].Index <= horizon;
            if (!fromRows && !fromBlocks)
            {
                break;
            }

            page.Add(fromRows && (!fromBlocks || rows[r].Index < blockItems[k].Index) ? rows[r++] : blockItems[k++]);
        }

        return more && horizon < last ? horizon : null;
    }
}
