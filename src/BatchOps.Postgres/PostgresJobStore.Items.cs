using System.Runtime.CompilerServices;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using Npgsql;
using NpgsqlTypes;

namespace BatchOps.Postgres;

public sealed partial class PostgresJobStore
{
    private const int PageSize = 1000;

    private const string ItemColumns =
        "idx, key, input, status, attempts, output, error_type, error_message, error_detail, error_retryable, started_at, ended_at, duration_ms";

    /// <summary>
    /// Outcome columns as arrays, one element per item, joined to the items by index. Statements that join
    /// them also bound the index by the outcomes' first and last ($13, $14): without that, a job whose items
    /// the planner has no statistics for yet (just created) looked small, and each 100-item checkpoint
    /// hashed every item of the job (20 ms instead of 1 ms at 100,000 items).
    /// </summary>
    private const string OutcomeArrays =
        "unnest($2::bigint[], $3::smallint[], $4::integer[], $5::text[], $6::text[], $7::text[], $8::text[], $9::boolean[], $10::timestamptz[], $11::timestamptz[], $12::double precision[]) " +
        "AS o(idx, status, attempts, output, error_type, error_message, error_detail, error_retryable, started_at, ended_at, duration_ms)";

    /// <inheritdoc/>
    public Task AddItemsAsync(string jobId, IReadOnlyList<StoredItem> items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        return items.Count == 0 ? Task.CompletedTask : ExecuteBatchAsync([InsertRows(jobId, items)], cancellationToken);
    }

    /// <inheritdoc/>
    public Task AddItemBlocksAsync(string jobId, IReadOnlyList<StoredItem> items, int blockSize, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);

        // A slice of new, consecutive Pending items becomes a block; anything else (a lone item, gaps,
        // items carrying state) stays rows, as AddItemsAsync records them.
        var blocks = new List<StoredItem>(items.Count);
        var blockOf = new List<int>(items.Count);
        var rows = new List<StoredItem>();
        foreach (var slice in items.Chunk(blockSize))
        {
            if (!IsNewRun(slice))
            {
                rows.AddRange(slice);
                continue;
            }

            var block = blockOf.Count == 0 ? 0 : blockOf[^1] + 1;
            blocks.AddRange(slice);
            blockOf.AddRange(Enumerable.Repeat(block, slice.Length));
        }

        var commands = new List<NpgsqlBatchCommand>();
        if (blocks.Count > 0)
        {
            var insert = new NpgsqlBatchCommand(
                "WITH added AS (" +
                "  INSERT INTO batchops.item_blocks (job_id, first_idx, last_idx, status, keys, inputs) " +
                "  SELECT $1, min(u.idx), max(u.idx), 0, array_agg(u.key ORDER BY u.idx), array_agg(u.input ORDER BY u.idx) " +
                "  FROM unnest($2::bigint[], $3::text[], $4::text[], $5::integer[]) AS u(idx, key, input, block) GROUP BY u.block ORDER BY 2 " +
                "  RETURNING first_idx, last_idx - first_idx + 1 AS n) " +
                "INSERT INTO batchops.job_counts AS c (job_id, stage, status, n) SELECT $1, batchops.stage_of($1, first_idx), 0, sum(n) FROM added GROUP BY 2 ORDER BY 2 " +
                "ON CONFLICT (job_id, stage, status) DO UPDATE SET n = c.n + excluded.n");
            var p = insert.Parameters;
            p.Add(new() { Value = jobId });
            p.Add(new() { Value = blocks.Select(i => i.Index).ToArray() });
            p.Add(new() { Value = blocks.Select(i => i.Key).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            p.Add(new() { Value = blocks.Select(i => i.Input).ToArray() });
            p.Add(new() { Value = blockOf.ToArray() });
            commands.Add(insert);
        }

        if (rows.Count > 0)
        {
            commands.Add(InsertRows(jobId, rows));
        }

        return commands.Count == 0 ? Task.CompletedTask : ExecuteBatchAsync(commands, cancellationToken);
    }

    /// <summary>Whether items can be one Pending block: at least two, new (no state), with consecutive indexes in order.</summary>
    private static bool IsNewRun(StoredItem[] slice)
    {
        if (slice.Length < 2)
        {
            return false;
        }

        for (var i = 0; i < slice.Length; i++)
        {
            var item = slice[i];
            if (item.Index != slice[0].Index + i || item.Status != ItemStatus.Pending || item.Attempts != 0 || item.Output is not null || item.EndedAt is not null)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Inserts items as rows with whatever state they carry; indexes already recorded are left as they are.</summary>
    private static NpgsqlBatchCommand InsertRows(string jobId, IReadOnlyList<StoredItem> items)
    {
        var command = new NpgsqlBatchCommand(
            "INSERT INTO batchops.items (job_id, idx, key, input, status, attempts, output, started_at, ended_at, duration_ms) " +
            "SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::smallint[], $6::integer[], $7::text[], $8::timestamptz[], $9::timestamptz[], $10::double precision[]) " +
            "ORDER BY 1 ON CONFLICT (job_id, idx) DO NOTHING");
        var p = command.Parameters;
        p.Add(new() { Value = jobId });
        p.Add(new() { Value = items.Select(i => i.Index).ToArray() });
        p.Add(new() { Value = items.Select(i => i.Key).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        p.Add(new() { Value = items.Select(i => i.Input).ToArray() });
        p.Add(new() { Value = items.Select(i => (short)i.Status).ToArray() });
        p.Add(new() { Value = items.Select(i => i.Attempts).ToArray() });
        p.Add(new() { Value = items.Select(i => i.Output).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        p.Add(new() { Value = items.Select(i => (DateTime?)i.StartedAt?.UtcDateTime).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        p.Add(new() { Value = items.Select(i => (DateTime?)i.EndedAt?.UtcDateTime).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        p.Add(new() { Value = items.Select(i => i.Duration?.TotalMilliseconds).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Double });
        return command;
    }

    /// <summary>Runs statements as one batch: one round trip, one transaction.</summary>
    private Task ExecuteBatchAsync(IEnumerable<NpgsqlBatchCommand> commands, CancellationToken cancellationToken) =>
        GuardAsync(async () =>
        {
            await using var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var batch = new NpgsqlBatch(connection);
            foreach (var command in commands)
            {
                batch.BatchCommands.Add(command);
            }

            return await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        });

    /// <inheritdoc/>
    public Task CheckpointAsync(string jobId, IReadOnlyList<ItemOutcome> outcomes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        return GuardAsync(async () =>
        {
            // One round trip and one transaction (two in the rare careful case).
            if (outcomes.Count > 0)
            {
                await using var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await ExecuteCheckpointAsync(connection, (batch, asBlock) => AddCheckpoint(batch, jobId, outcomes, asBlock), cancellationToken).ConfigureAwait(false);
            }

            return 0;
        });
    }

    /// <summary>
    /// Adds the statements that write outcomes over their items: a run of consecutive successes moved into
    /// one block (<paramref name="asBlock"/>), or else blocks holding any of them written out as rows and
    /// the rows updated one by one.
    /// </summary>
    private static void AddCheckpoint(NpgsqlBatch batch, string jobId, IReadOnlyList<ItemOutcome> outcomes, bool asBlock)
    {
        // Sorted by index: concurrent checkpoints of one job lock rows in the same order.
        var sorted = outcomes.OrderBy(o => o.Index).ToArray();
        AddRetries(batch, jobId, sorted);
        if (asBlock && IsBlock(sorted))
        {
            AddSucceedBlock(batch, jobId, sorted);
        }
        else
        {
            batch.BatchCommands.Add(Expand(jobId, sorted[0].Index, sorted[^1].Index));
            var update = new NpgsqlBatchCommand(
                "UPDATE batchops.items i SET status = o.status, attempts = o.attempts, output = o.output, error_type = o.error_type, error_message = o.error_message, " +
                "error_detail = o.error_detail, error_retryable = o.error_retryable, started_at = o.started_at, ended_at = o.ended_at, duration_ms = o.duration_ms " +
                $"FROM {OutcomeArrays} WHERE i.job_id = $1 AND i.idx BETWEEN $13 AND $14 AND i.idx = o.idx");
            BindOutcomes(update.Parameters, jobId, sorted, withOutput: true);
            batch.BatchCommands.Add(update);
        }

        AddStageTimes(batch, jobId, sorted);
    }

    /// <summary>Widens the times of the stages the outcomes ran in (after the counts, as every writer: a job's count rows, then its stage rows).</summary>
    private static void AddStageTimes(NpgsqlBatch batch, string jobId, ItemOutcome[] outcomes)
    {
        if (StageWindow.Of(outcomes) is not { } window)
        {
            return;
        }

        var times = new NpgsqlBatchCommand(
            "UPDATE batchops.job_stages SET started_at = least(started_at, $4), ended_at = greatest(ended_at, $5) " +
            "WHERE job_id = $1 AND first_idx <= $3 AND last_idx >= $2");
        times.Parameters.Add(new() { Value = jobId });
        times.Parameters.Add(new() { Value = window.FirstIndex });
        times.Parameters.Add(new() { Value = window.LastIndex });
        times.Parameters.Add(new() { Value = window.StartedAt.ToUniversalTime() });
        times.Parameters.Add(new() { Value = window.EndedAt.ToUniversalTime() });
        batch.BatchCommands.Add(times);
    }

    /// <summary>The retried attempts of the outcomes that have any, in the checkpoint's batch (one transaction), under the job's current run.</summary>
    private static void AddRetries(NpgsqlBatch batch, string jobId, ItemOutcome[] outcomes)
    {
        var retries = outcomes.SelectMany(o => (o.Retries ?? []).Select(r => (o.Index, Retry: r))).ToArray();
        if (retries.Length == 0)
        {
            return;
        }

        var insert = new NpgsqlBatchCommand(
            "INSERT INTO batchops.item_retries (job_id, idx, run, attempt, error_type, status_code, message, delay_ms, at) " +
            "SELECT $1, r.idx, j.run_count, r.attempt, r.error_type, r.status_code, r.message, r.delay_ms, r.at " +
            "FROM batchops.jobs j, unnest($2::bigint[], $3::int[], $4::text[], $5::int[], $6::text[], $7::float8[], $8::timestamptz[]) " +
            "AS r(idx, attempt, error_type, status_code, message, delay_ms, at) WHERE j.id = $1");
        insert.Parameters.Add(new() { Value = jobId });
        insert.Parameters.Add(new() { Value = retries.Select(r => r.Index).ToArray() });
        insert.Parameters.Add(new() { Value = retries.Select(r => r.Retry.Attempt).ToArray() });
        insert.Parameters.Add(new() { Value = retries.Select(r => r.Retry.ErrorType).ToArray() });
        insert.Parameters.Add(new() { Value = retries.Select(r => r.Retry.StatusCode).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
        insert.Parameters.Add(new() { Value = retries.Select(r => r.Retry.Message).ToArray() });
        insert.Parameters.Add(new() { Value = retries.Select(r => r.Retry.Delay.TotalMilliseconds).ToArray() });
        insert.Parameters.Add(new() { Value = retries.Select(r => r.Retry.At.UtcDateTime).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        batch.BatchCommands.Add(insert);
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<ItemRetry>> GetItemRetriesAsync(string jobId, long index, CancellationToken cancellationToken = default) =>
        GuardAsync(async () =>
        {
            await using var command = _source.CreateCommand(
                "SELECT run, attempt, error_type, status_code, message, delay_ms, at FROM batchops.item_retries WHERE job_id = $1 AND idx = $2 ORDER BY id");
            command.Parameters.Add(new() { Value = jobId });
            command.Parameters.Add(new() { Value = index });
            await using var r = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var retries = new List<ItemRetry>();
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                retries.Add(new ItemRetry(r.GetInt32(0), r.GetInt32(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetInt32(3), r.GetString(4), TimeSpan.FromMilliseconds(r.GetDouble(5)), Time(r, 6)!.Value));
            }

            return (IReadOnlyList<ItemRetry>)retries;
        });

    /// <inheritdoc/>
    public Task RecordCompensationsAsync(string jobId, IReadOnlyList<ItemOutcome> outcomes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        if (outcomes.Count == 0)
        {
            return Task.CompletedTask;
        }

        return GuardAsync(async () =>
        {
            await using var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var sorted = outcomes.OrderBy(o => o.Index).ToArray();
            await ExpandAsync(connection, transaction, jobId, sorted[0].Index, sorted[^1].Index, cancellationToken).ConfigureAwait(false);
            await using (var history = new NpgsqlCommand(
                "INSERT INTO batchops.item_history (job_id, idx, run, status, attempts, error_type, error_message, error_detail, error_retryable, ended_at) " +
                "SELECT i.job_id, i.idx, j.run_count, i.status, i.attempts, i.error_type, i.error_message, i.error_detail, i.error_retryable, i.ended_at " +
                "FROM batchops.items i JOIN batchops.jobs j ON j.id = i.job_id WHERE i.job_id = $1 AND i.idx BETWEEN $3 AND $4 AND i.idx = ANY($2) ORDER BY i.idx", connection, transaction))
            {
                history.Parameters.Add(new() { Value = jobId });
                history.Parameters.Add(new() { Value = sorted.Select(o => o.Index).ToArray() });
                history.Parameters.Add(new() { Value = sorted[0].Index });
                history.Parameters.Add(new() { Value = sorted[^1].Index });
                await history.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            // The output stays: it is what the undo was given.
            await using var command = new NpgsqlCommand(
                "UPDATE batchops.items i SET status = o.status, attempts = o.attempts, error_type = o.error_type, error_message = o.error_message, " +
                "error_detail = o.error_detail, error_retryable = o.error_retryable, started_at = o.started_at, ended_at = o.ended_at, duration_ms = o.duration_ms " +
                $"FROM {OutcomeArrays} WHERE i.job_id = $1 AND i.idx BETWEEN $13 AND $14 AND i.idx = o.idx", connection, transaction);
            BindOutcomes(command.Parameters, jobId, sorted, withOutput: false);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        });
    }

    private static void BindOutcomes(NpgsqlParameterCollection p, string jobId, ItemOutcome[] sorted, bool withOutput)
    {
        p.Add(new() { Value = jobId });
        p.Add(new() { Value = sorted.Select(o => o.Index).ToArray() });
        p.Add(new() { Value = sorted.Select(o => (short)o.Status).ToArray() });
        p.Add(new() { Value = sorted.Select(o => o.Attempts).ToArray() });
        p.Add(new() { Value = sorted.Select(o => withOutput ? o.Output : null).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        p.Add(new() { Value = sorted.Select(o => o.Error?.Type).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        p.Add(new() { Value = sorted.Select(o => o.Error?.Message).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        p.Add(new() { Value = sorted.Select(o => o.Error?.Detail).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        p.Add(new() { Value = sorted.Select(o => o.Error?.IsRetryable).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Boolean });
        p.Add(new() { Value = sorted.Select(o => (DateTime?)o.StartedAt?.UtcDateTime).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        p.Add(new() { Value = sorted.Select(o => o.EndedAt.UtcDateTime).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        p.Add(new() { Value = sorted.Select(o => o.Duration.TotalMilliseconds).ToArray() });
        p.Add(new() { Value = sorted[0].Index });
        p.Add(new() { Value = sorted[^1].Index });
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<StoredItem> GetItemsAsync(string jobId, ItemQuery query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var sql = PageSql(query);
        var source = query.InputsOnly ? 3 : 13;
        var statuses = query.Statuses?.Select(s => (short)s).ToArray() ?? [];
        var indexes = query.Indexes?.ToArray() ?? [];
        long? after = (query.FirstIndex ?? 0) - 1;
        var last = query.LastIndex ?? long.MaxValue;
        if (query.Indexes is not null)
        {
            if (indexes.Length == 0)
            {
                yield break;
            }

            after = Math.Max(after.Value, indexes.Min() - 1);
            last = Math.Min(last, indexes.Max());
        }

        while (after is { } from && from < last)
        {
            var (page, next) = await GuardAsync(async () =>
            {
                await using var command = _source.CreateCommand(sql);
                command.Parameters.Add(new() { Value = jobId });
                command.Parameters.Add(new() { Value = from });
                command.Parameters.Add(new() { Value = last });
                command.Parameters.Add(new() { Value = statuses });
                command.Parameters.Add(new() { Value = indexes });
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                var rows = new List<StoredItem>();
                var blockItems = new List<StoredItem>();
                var markers = new List<(long, bool)>();
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var kind = reader.GetInt32(source);
                    if (kind >= 2)
                    {
                        markers.Add((reader.GetInt64(0), kind == 2));
                        continue;
                    }

                    var item = query.InputsOnly
                        ? new StoredItem { Index = reader.GetInt64(0), Key = reader.IsDBNull(1) ? null : reader.GetString(1), Input = reader.GetString(2) }
                        : ReadItem(reader);
                    (kind == 0 ? rows : blockItems).Add(item);
                }

                var page = new List<StoredItem>(rows.Count + blockItems.Count);
                return (page, MergePage(rows, blockItems, markers, last, page));
            }).ConfigureAwait(false);
            foreach (var item in page)
            {
                yield return item;
            }

            after = next;
        }
    }

    private static StoredItem ReadItem(NpgsqlDataReader r) => new()
    {
        Index = r.GetInt64(0),
        Key = r.IsDBNull(1) ? null : r.GetString(1),
        Input = r.GetString(2),
        Status = (ItemStatus)r.GetInt16(3),
        Attempts = r.GetInt32(4),
        Output = r.IsDBNull(5) ? null : r.GetString(5),
        Error = ReadError(r, 6),
        StartedAt = Time(r, 10),
        EndedAt = Time(r, 11),
        Duration = r.IsDBNull(12) ? null : TimeSpan.FromMilliseconds(r.GetDouble(12)),
    };

    /// <summary>The error in four columns from <paramref name="first"/>: type, message, detail, retryable.</summary>
    private static ItemError? ReadError(NpgsqlDataReader r, int first) => r.IsDBNull(first)
        ? null
        : new ItemError(r.GetString(first), r.IsDBNull(first + 1) ? string.Empty : r.GetString(first + 1), r.IsDBNull(first + 2) ? null : r.GetString(first + 2), !r.IsDBNull(first + 3) && r.GetBoolean(first + 3));

    /// <inheritdoc/>
    public Task<IReadOnlyList<ItemHistoryEntry>> GetItemHistoryAsync(string jobId, long index, CancellationToken cancellationToken = default) =>
        GuardAsync(async () =>
        {
            await using var command = _source.CreateCommand(
                "SELECT run, status, attempts, error_type, error_message, error_detail, error_retryable, ended_at FROM batchops.item_history " +
                "WHERE job_id = $1 AND idx = $2 ORDER BY id");
            command.Parameters.Add(new() { Value = jobId });
            command.Parameters.Add(new() { Value = index });
            await using var r = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var history = new List<ItemHistoryEntry>();
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                history.Add(new ItemHistoryEntry(r.GetInt32(0), (ItemStatus)r.GetInt16(1), r.GetInt32(2), ReadError(r, 3), Time(r, 7)));
            }

            return (IReadOnlyList<ItemHistoryEntry>)history;
        });

    /// <inheritdoc/>
    public Task<IReadOnlyList<long>> ResetFailedAsync(string jobId, IReadOnlyCollection<long>? indexes, CancellationToken cancellationToken = default) =>
        GuardAsync(async () =>
        {
            await using var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var filter = indexes is null ? string.Empty : " AND i.idx = ANY($3)";
            await using (var history = new NpgsqlCommand(
                "INSERT INTO batchops.item_history (job_id, idx, run, status, attempts, error_type, error_message, error_detail, error_retryable, ended_at) " +
                "SELECT i.job_id, i.idx, j.run_count, i.status, i.attempts, i.error_type, i.error_message, i.error_detail, i.error_retryable, i.ended_at " +
                $"FROM batchops.items i JOIN batchops.jobs j ON j.id = i.job_id WHERE i.job_id = $1 AND i.status = $2{filter} ORDER BY i.idx", connection, transaction))
            {
                BindReset(history, jobId, indexes);
                await history.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await using var command = new NpgsqlCommand(
                "UPDATE batchops.items i SET status = 0, attempts = 0, output = NULL, error_type = NULL, error_message = NULL, error_detail = NULL, " +
                $"error_retryable = NULL, started_at = NULL, ended_at = NULL, duration_ms = NULL WHERE i.job_id = $1 AND i.status = $2{filter} RETURNING i.idx", connection, transaction);
            BindReset(command, jobId, indexes);
            var reset = new List<long>();
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    reset.Add(reader.GetInt64(0));
                }
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            reset.Sort();
            return (IReadOnlyList<long>)reset;
        });

    private static void BindReset(NpgsqlCommand command, string jobId, IReadOnlyCollection<long>? indexes)
    {
        command.Parameters.Add(new() { Value = jobId });
        command.Parameters.Add(new() { Value = (short)ItemStatus.Failed });
        if (indexes is not null)
        {
            command.Parameters.Add(new() { Value = indexes.ToArray() });
        }
    }
}
