using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using BatchOps.Engine.Jobs;
using Microsoft.Data.Sqlite;

namespace BatchOps.Engine.Store;

public sealed partial class SqliteJobStore
{
    private const int PageSize = 1000;
    private readonly ConcurrentDictionary<string, ItemsFileInfo?> _itemsFiles = new();

    /// <summary>The columns <see cref="ReadBlock"/> reads, in its order.</summary>
    private const string BlockColumns = "first_idx, last_idx, status, keys, inputs, source_offset, source_length";
    private const string ItemColumns =
        "idx, key, input, status, attempts, output, error_type, error_message, error_detail, error_retryable, started_at, ended_at, duration_ms";

    /// <inheritdoc/>
    public Task AddItemsAsync(string jobId, IReadOnlyList<StoredItem> items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        return Task.FromResult(Write(writer =>
        {
            using var transaction = writer.Connection.BeginTransaction();
            InsertRows(writer, jobId, items);
            transaction.Commit();
            return items.Count;
        }));
    }

    /// <inheritdoc/>
    public Task AddItemBlocksAsync(string jobId, IReadOnlyList<StoredItem> items, int blockSize, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        return Task.FromResult(Write(writer =>
        {
            using var transaction = writer.Connection.BeginTransaction();
            foreach (var slice in items.Chunk(blockSize))
            {
                var consecutive = slice[^1].Index - slice[0].Index == slice.Length - 1 && slice.All(i => i.Status == ItemStatus.Pending);
                if (slice.Length < 2 || !consecutive)
                {
                    InsertRows(writer, jobId, slice);
                    continue;
                }

                var insert = writer.InsertBlock;
                insert.Bind(1, jobId);
                insert.Bind(2, slice[0].Index);
                insert.Bind(3, slice[^1].Index);
                insert.Bind(4, (int)ItemStatus.Pending);
                if (ItemBlock.EncodeKeys(writer.Buffer, slice))
                {
                    writer.BindBlock(insert, 5);
                }
                else
                {
                    insert.Bind(5, (string?)null);
                }

                ItemBlock.Encode(writer.Buffer, slice.Select(i => i.Input));
                writer.BindBlock(insert, 6);
                insert.Execute();
            }

            transaction.Commit();
            return items.Count;
        }));
    }

    /// <inheritdoc/>
    public Task AddItemRangesAsync(string jobId, ItemsFileInfo file, IReadOnlyList<ItemRange> ranges, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(ranges);
        return Task.FromResult(Write(writer =>
        {
            using var transaction = writer.Connection.BeginTransaction();
            var insert = writer.InsertRange;
            insert.Bind(1, jobId);
            foreach (var range in ranges)
            {
                insert.Bind(2, range.First);
                insert.Bind(3, range.Last);
                insert.Bind(4, (int)ItemStatus.Pending);
                if (range.Keys is { } keys)
                {
                    ItemBlock.Encode(writer.Buffer, keys);
                    writer.BindBlock(insert, 5);
                }
                else
                {
                    insert.Bind(5, (string?)null);
                }

                insert.Bind(6, range.Offset);
                insert.Bind(7, range.Length);
                insert.Execute();
            }

            transaction.Commit();
            return ranges.Count;
        }));
    }

    /// <summary>Item rows with whatever state they carry (new items: Pending and nothing else; a written-out block: its outcomes).</summary>
    private static void InsertRows(ItemWriter writer, string jobId, IEnumerable<StoredItem> items)
    {
        var insert = writer.Insert;
        insert.Bind(1, jobId);
        foreach (var item in items)
        {
            insert.Bind(2, item.Index);
            insert.Bind(3, item.Key);
            insert.Bind(4, item.Input);
            insert.Bind(5, (int)item.Status);
            insert.Bind(6, item.Attempts);
            insert.Bind(7, item.Output);
            insert.Bind(8, item.StartedAt is { } started ? ToMs(started) : null);
            insert.Bind(9, item.EndedAt is { } ended ? ToMs(ended) : null);
            insert.Bind(10, item.Duration?.TotalMilliseconds);
            insert.Execute();
        }
    }

    /// <inheritdoc/>
    public Task CheckpointAsync(string jobId, IReadOnlyList<ItemOutcome> outcomes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        return Task.FromResult(Write(writer =>
        {
            using var transaction = writer.Connection.BeginTransaction();
            var rows = CheckpointBlocks(writer, transaction, jobId, outcomes, () => ItemsFileOf(writer.Connection, transaction, jobId));
            var checkpoint = writer.Checkpoint;
            checkpoint.Bind(1, jobId);
            foreach (var outcome in rows)
            {
                checkpoint.Bind(2, outcome.Index);
                checkpoint.Bind(3, (int)outcome.Status);
                checkpoint.Bind(4, outcome.Attempts);
                checkpoint.Bind(5, outcome.Output);
                checkpoint.Bind(6, outcome.Error?.Type);
                checkpoint.Bind(7, outcome.Error?.Message);
                checkpoint.Bind(8, outcome.Error?.Detail);
                checkpoint.Bind(9, outcome.Error is null ? null : outcome.Error.IsRetryable ? 1 : 0);
                checkpoint.Bind(10, outcome.StartedAt is { } started ? ToMs(started) : null);
                checkpoint.Bind(11, ToMs(outcome.EndedAt));
                checkpoint.Bind(12, outcome.Duration.TotalMilliseconds);
                checkpoint.Execute();
            }

            WriteRetries(writer.Connection, transaction, jobId, outcomes);
            if (StageWindow.Of(outcomes) is { } window)
            {
                var times = writer.StageTimes;
                times.Bind(1, jobId);
                times.Bind(2, window.FirstIndex);
                times.Bind(3, window.LastIndex);
                times.Bind(4, ToMs(window.StartedAt));
                times.Bind(5, ToMs(window.EndedAt));
                times.Execute();
            }

            transaction.Commit();
            return outcomes.Count;
        }));
    }

    /// <summary>The retried attempts of the outcomes that have any, in the checkpoint's transaction, under the job's current run.</summary>
    private static void WriteRetries(SqliteConnection connection, SqliteTransaction transaction, string jobId, IReadOnlyList<ItemOutcome> outcomes)
    {
        SqliteCommand? insert = null;
        try
        {
            foreach (var outcome in outcomes)
            {
                foreach (var retry in outcome.Retries ?? [])
                {
                    if (insert is null)
                    {
                        insert = connection.CreateCommand();
                        insert.Transaction = transaction;
                        insert.CommandText =
                            "INSERT INTO item_retries (job_id, idx, run, attempt, error_type, status_code, message, delay_ms, at) " +
                            "SELECT $job, $idx, run_count, $attempt, $type, $status, $message, $delay, $at FROM jobs WHERE id = $job";
                        insert.Parameters.AddWithValue("$job", jobId);
                        foreach (var (name, type) in new[] { ("$idx", SqliteType.Integer), ("$attempt", SqliteType.Integer), ("$type", SqliteType.Text), ("$status", SqliteType.Integer), ("$message", SqliteType.Text), ("$delay", SqliteType.Real), ("$at", SqliteType.Integer) })
                        {
                            insert.Parameters.Add(name, type);
                        }
                    }

                    insert.Parameters["$idx"].Value = outcome.Index;
                    insert.Parameters["$attempt"].Value = retry.Attempt;
                    insert.Parameters["$type"].Value = retry.ErrorType;
                    insert.Parameters["$status"].Value = (object?)retry.StatusCode ?? DBNull.Value;
                    insert.Parameters["$message"].Value = retry.Message;
                    insert.Parameters["$delay"].Value = retry.Delay.TotalMilliseconds;
                    insert.Parameters["$at"].Value = ToMs(retry.At);
                    insert.ExecuteNonQuery();
                }
            }
        }
        finally
        {
            insert?.Dispose();
        }
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<ItemRetry>> GetItemRetriesAsync(string jobId, long index, CancellationToken cancellationToken = default) =>
        Task.FromResult(Guard(() =>
        {
            using var connection = Connect();
            using var command = connection.CreateCommand();
            command.CommandText =
                "SELECT run, attempt, error_type, status_code, message, delay_ms, at FROM item_retries WHERE job_id = $job AND idx = $idx ORDER BY run, attempt";
            command.Parameters.AddWithValue("$job", jobId);
            command.Parameters.AddWithValue("$idx", index);
            using var r = command.ExecuteReader();
            var retries = new List<ItemRetry>();
            while (r.Read())
            {
                retries.Add(new ItemRetry(r.GetInt32(0), r.GetInt32(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetInt32(3), r.GetString(4), TimeSpan.FromMilliseconds(r.GetDouble(5)), FromMs(r.GetInt64(6))));
            }

            return (IReadOnlyList<ItemRetry>)retries;
        }));

    /// <inheritdoc/>
    public Task RecordCompensationsAsync(string jobId, IReadOnlyList<ItemOutcome> outcomes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        return Task.FromResult(Write(writer =>
        {
            using var transaction = writer.Connection.BeginTransaction();

            // A compensation is never a whole Succeeded block's fate: its block is written out as rows first.
            var rows = CheckpointBlocks(writer, transaction, jobId, outcomes, () => ItemsFileOf(writer.Connection, transaction, jobId));
            using var command = writer.Connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText =
                "INSERT INTO item_history (job_id, idx, run, status, attempts, error_type, error_message, error_detail, error_retryable, ended_at) " +
                "SELECT i.job_id, i.idx, j.run_count, i.status, i.attempts, i.error_type, i.error_message, i.error_detail, i.error_retryable, i.ended_at " +
                "FROM items i JOIN jobs j ON j.id = i.job_id WHERE i.job_id = $job AND i.idx = $idx; " +
                "UPDATE items SET status = $status, attempts = $attempts, error_type = $type, error_message = $message, error_detail = $detail, " +
                "error_retryable = $retryable, started_at = $started, ended_at = $ended, duration_ms = $duration WHERE job_id = $job AND idx = $idx;";
            command.Parameters.AddWithValue("$job", jobId);
            var idx = command.Parameters.Add("$idx", SqliteType.Integer);
            var status = command.Parameters.Add("$status", SqliteType.Integer);
            var attempts = command.Parameters.Add("$attempts", SqliteType.Integer);
            var type = command.Parameters.Add("$type", SqliteType.Text);
            var message = command.Parameters.Add("$message", SqliteType.Text);
            var detail = command.Parameters.Add("$detail", SqliteType.Text);
            var retryable = command.Parameters.Add("$retryable", SqliteType.Integer);
            var started = command.Parameters.Add("$started", SqliteType.Integer);
            var ended = command.Parameters.Add("$ended", SqliteType.Integer);
            var duration = command.Parameters.Add("$duration", SqliteType.Real);
            foreach (var o in rows)
            {
                idx.Value = o.Index;
                status.Value = (int)o.Status;
                attempts.Value = o.Attempts;
                type.Value = (object?)o.Error?.Type ?? DBNull.Value;
                message.Value = (object?)o.Error?.Message ?? DBNull.Value;
                detail.Value = (object?)o.Error?.Detail ?? DBNull.Value;
                retryable.Value = o.Error is null ? DBNull.Value : o.Error.IsRetryable ? 1 : 0;
                started.Value = o.StartedAt is { } s ? ToMs(s) : DBNull.Value;
                ended.Value = ToMs(o.EndedAt);
                duration.Value = o.Duration.TotalMilliseconds;
                command.ExecuteNonQuery();
            }

            transaction.Commit();
            return rows.Count;
        }));
    }

    /// <summary>
    /// The blocks among the outcomes' items: a Pending block whose items all succeeded in this checkpoint
    /// becomes one Succeeded record; any other block they touch is written out as item rows first. Returns
    /// the outcomes left for item rows.
    /// </summary>
    private static IReadOnlyList<ItemOutcome> CheckpointBlocks(ItemWriter writer, SqliteTransaction transaction, string jobId, IReadOnlyList<ItemOutcome> outcomes, Func<ItemsFileInfo?> itemsFile)
    {
        if (outcomes.Count == 0)
        {
            return outcomes;
        }

        var low = long.MaxValue;
        var high = long.MinValue;
        foreach (var o in outcomes)
        {
            low = Math.Min(low, o.Index);
            high = Math.Max(high, o.Index);
        }

        var blocks = FindBlocks(writer.Connection, transaction, jobId, low, high);
        if (blocks.Count == 0)
        {
            return outcomes;
        }

        // By index, without a dictionary: a chunk's outcomes usually arrive in order already.
        IReadOnlyList<ItemOutcome> sorted = IsSorted(outcomes) ? outcomes : [.. outcomes.OrderBy(o => o.Index)];
        var handled = new bool[sorted.Count];
        var handledAny = false;
        foreach (var (first, last, status) in blocks)
        {
            // Sparse outcomes (a retry of a few items) span blocks they do not touch: leave those alone.
            var at = FirstAtOrAfter(sorted, first);
            if (at == sorted.Count || sorted[at].Index > last)
            {
                continue;
            }

            var count = (int)(last - first + 1);
            var whole = status == ItemStatus.Pending && sorted[at].Index == first && at + count <= sorted.Count && sorted[at + count - 1].Index == last;
            for (var i = at; whole && i < at + count; i++)
            {
                whole = sorted[i].Status == ItemStatus.Succeeded;
            }

            if (!whole)
            {
                Expand(writer, jobId, first, itemsFile());
                continue;
            }

            var succeed = writer.SucceedBlock;
            succeed.Bind(1, jobId);
            succeed.Bind(2, first);
            succeed.Bind(3, (int)ItemStatus.Succeeded);
            ItemBlock.EncodeOutcomes(writer.Buffer, new Slice(sorted, at, count));
            writer.BindBlock(succeed, 4);
            succeed.Execute();
            Array.Fill(handled, true, at, count);
            handledAny = true;
        }

        return handledAny ? [.. sorted.Where((_, i) => !handled[i])] : sorted;
    }

    private static bool IsSorted(IReadOnlyList<ItemOutcome> outcomes)
    {
        for (var i = 1; i < outcomes.Count; i++)
        {
            if (outcomes[i].Index <= outcomes[i - 1].Index)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The position of the first outcome whose index is at least <paramref name="index"/> (binary search).</summary>
    private static int FirstAtOrAfter(IReadOnlyList<ItemOutcome> sorted, long index)
    {
        int lo = 0, hi = sorted.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (sorted[mid].Index < index)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>A run of a list, without copying it.</summary>
    private sealed class Slice(IReadOnlyList<ItemOutcome> list, int offset, int count) : IReadOnlyList<ItemOutcome>
    {
        public int Count => count;

        public ItemOutcome this[int index] => list[offset + index];

        public IEnumerator<ItemOutcome> GetEnumerator()
        {
            for (var i = 0; i < count; i++)
            {
                yield return list[offset + i];
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>Blocks holding any index from <paramref name="low"/> to <paramref name="high"/>: the one starting at or before low, and those starting after it up to high.</summary>
    private static List<(long First, long Last, ItemStatus Status)> FindBlocks(SqliteConnection connection, SqliteTransaction? transaction, string jobId, long low, long high)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText =
            "SELECT first_idx, last_idx, status FROM (SELECT first_idx, last_idx, status FROM item_blocks WHERE job_id = $job AND first_idx <= $low ORDER BY first_idx DESC LIMIT 1) " +
            "UNION ALL SELECT first_idx, last_idx, status FROM item_blocks WHERE job_id = $job AND first_idx > $low AND first_idx <= $high ORDER BY first_idx";
        command.Parameters.AddWithValue("$job", jobId);
        command.Parameters.AddWithValue("$low", low);
        command.Parameters.AddWithValue("$high", high);
        using var r = command.ExecuteReader();
        var blocks = new List<(long, long, ItemStatus)>();
        while (r.Read())
        {
            if (r.GetInt64(1) >= low)
            {
                blocks.Add((r.GetInt64(0), r.GetInt64(1), (ItemStatus)r.GetInt32(2)));
            }
        }

        return blocks;
    }

    /// <summary>Writes a block's items out as item rows (keeping their state) and deletes the block.</summary>
    private static void Expand(ItemWriter writer, string jobId, long first, ItemsFileInfo? itemsFile)
    {
        List<StoredItem> items;
        using (var select = new RawStatement(writer.Connection, $"SELECT {BlockColumns}, outcomes FROM item_blocks WHERE job_id = ?1 AND first_idx = ?2"))
        {
            select.Bind(1, jobId);
            select.Bind(2, first);
            if (!select.Step())
            {
                return;
            }

            items = ReadBlock(select, inputsOnly: false, itemsFile);
        }

        InsertRows(writer, jobId, items);
        var delete = writer.DeleteBlock;
        delete.Bind(1, jobId);
        delete.Bind(2, first);
        delete.Execute();
    }

    /// <summary>
    /// The current block row (<see cref="BlockColumns"/>[, outcomes]) as its items, read in place; a block
    /// that keeps only where its items are in the job's items file reads them from there.
    /// </summary>
    private static List<StoredItem> ReadBlock(RawStatement r, bool inputsOnly, ItemsFileInfo? itemsFile)
    {
        var hasOutcomes = !inputsOnly && !r.IsNull(7);
        string[]? fileInputs = null;
        if (!r.IsNull(5))
        {
            var range = new ItemRange(r.Int64(0), r.Int64(1), r.Int64(5), r.Int64(6));
            fileInputs = (itemsFile ?? throw new StoreException($"Items {range.First}-{range.Last} are kept in an items file, but the job names none; the store may be damaged.")).ReadRange(range);
        }

        return ItemBlock.Items(r.Int64(0), r.Int64(1), (ItemStatus)r.Int64(2), r.IsNull(3) ? default : r.Bytes(3), !r.IsNull(3), r.Bytes(4), fileInputs,
            hasOutcomes ? r.Bytes(7) : default, hasOutcomes);
    }

    /// <summary>The job's items file (null when the store holds its items), looked up once per job.</summary>
    private ItemsFileInfo? ItemsFileOf(SqliteConnection connection, SqliteTransaction? transaction, string jobId) =>
        _itemsFiles.GetOrAdd(jobId, id =>
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "SELECT items_file FROM jobs WHERE id = $id";
            command.Parameters.AddWithValue("$id", id);
            return command.ExecuteScalar() is string json ? JsonSerializer.Deserialize<ItemsFileInfo>(json, StoreJson.Options) : null;
        });

    /// <inheritdoc/>
    public async IAsyncEnumerable<StoredItem> GetItemsAsync(string jobId, ItemQuery query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Indexes is { } indexes)
        {
            // Page through the wanted indexes in order, a bounded IN list at a time.
            foreach (var page in indexes.Where(query.InRange).Distinct().Order().Chunk(500))
            {
                cancellationToken.ThrowIfCancellationRequested();
                foreach (var item in ReadItemPage(jobId, query, afterIndex: null, page).Items)
                {
                    yield return item;
                }
            }

            yield break;
        }

        long after = (query.FirstIndex ?? 0) - 1;
        var last = query.LastIndex ?? long.MaxValue;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (page, more) = ReadItemPage(jobId, query, after, indexes: null);
            foreach (var item in page)
            {
                if (item.Index > last)
                {
                    yield break;
                }

                yield return item;
            }

            if (!more || page.Count == 0)
            {
                yield break;
            }

            after = page[^1].Index;
            await Task.Yield();
        }
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<ItemHistoryEntry>> GetItemHistoryAsync(string jobId, long index, CancellationToken cancellationToken = default) =>
        Task.FromResult(Guard(() =>
        {
            using var connection = Connect();
            using var command = connection.CreateCommand();
            command.CommandText =
                "SELECT run, status, attempts, error_type, error_message, error_detail, error_retryable, ended_at FROM item_history " +
                "WHERE job_id = $job AND idx = $idx ORDER BY rowid";
            command.Parameters.AddWithValue("$job", jobId);
            command.Parameters.AddWithValue("$idx", index);
            using var r = command.ExecuteReader();
            var history = new List<ItemHistoryEntry>();
            while (r.Read())
            {
                history.Add(new ItemHistoryEntry(r.GetInt32(0), (ItemStatus)r.GetInt32(1), r.GetInt32(2), ReadError(r, 3), r.IsDBNull(7) ? null : FromMs(r.GetInt64(7))));
            }

            return (IReadOnlyList<ItemHistoryEntry>)history;
        }));

    /// <inheritdoc/>
    public Task<IReadOnlyList<long>> ResetFailedAsync(string jobId, IReadOnlyCollection<long>? indexes, CancellationToken cancellationToken = default) =>
        Task.FromResult(Guard(() =>
        {
            using var connection = Connect();
            using var transaction = connection.BeginTransaction();
            var failed = new List<long>();
            using (var select = connection.CreateCommand())
            {
                select.Transaction = transaction;
                select.CommandText = "SELECT idx FROM items WHERE job_id = $job AND status = $failed ORDER BY idx";
                select.Parameters.AddWithValue("$job", jobId);
                select.Parameters.AddWithValue("$failed", (int)ItemStatus.Failed);
                using var r = select.ExecuteReader();
                var wanted = indexes is null ? null : new HashSet<long>(indexes);
                while (r.Read())
                {
                    var idx = r.GetInt64(0);
                    if (wanted is null || wanted.Contains(idx))
                    {
                        failed.Add(idx);
                    }
                }
            }

            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText =
                "INSERT INTO item_history (job_id, idx, run, status, attempts, error_type, error_message, error_detail, error_retryable, ended_at) " +
                "SELECT i.job_id, i.idx, j.run_count, i.status, i.attempts, i.error_type, i.error_message, i.error_detail, i.error_retryable, i.ended_at " +
                "FROM items i JOIN jobs j ON j.id = i.job_id WHERE i.job_id = $job AND i.idx = $idx; " +
                "UPDATE items SET status = $pending, attempts = 0, output = NULL, error_type = NULL, error_message = NULL, error_detail = NULL, " +
                "error_retryable = NULL, started_at = NULL, ended_at = NULL, duration_ms = NULL WHERE job_id = $job AND idx = $idx;";
            command.Parameters.AddWithValue("$job", jobId);
            command.Parameters.AddWithValue("$pending", (int)ItemStatus.Pending);
            var index = command.Parameters.Add("$idx", SqliteType.Integer);
            foreach (var idx in failed)
            {
                index.Value = idx;
                command.ExecuteNonQuery();
            }

            transaction.Commit();
            return (IReadOnlyList<long>)failed;
        }));

    /// <summary>
    /// The next page of items in index order: up to a page of item rows, merged with the items of the blocks
    /// (matching the query) up to the last of those rows; the blocks stop after a page's worth of items, and
    /// rows past the last block read wait for the next page. <c>More</c> says whether anything may follow.
    /// </summary>
    private (List<StoredItem> Items, bool More) ReadItemPage(string jobId, ItemQuery query, long? afterIndex, long[]? indexes) => Guard(() =>
    {
        using var connection = Connect();

        // One snapshot for both reads: a checkpoint in another connection may write a block out as rows
        // between them, and its items must show up in exactly one of the two.
        using var snapshot = connection.BeginTransaction(deferred: true);
        var rows = ReadItemRows(connection, snapshot, jobId, query, afterIndex, indexes);
        var more = rows.Count == PageSize;
        var low = indexes?[0] ?? (afterIndex ?? -1) + 1;
        var high = indexes?[^1] ?? (more ? rows[^1].Index : long.MaxValue);
        var (blocks, end) = ReadBlockItems(connection, jobId, query, low, high, indexes, ItemsFileOf(connection, snapshot, jobId));
        if (blocks.Count == 0)
        {
            return (rows, more);
        }

        if (end is { } last)
        {
            rows.RemoveAll(r => r.Index > last);
            more = true;
        }

        rows.AddRange(blocks);
        rows.Sort((a, b) => a.Index.CompareTo(b.Index));
        return (rows, more);
    });

    /// <summary>
    /// Items of the blocks from <paramref name="low"/> to <paramref name="high"/>. Without an index list it
    /// stops after a page's worth of items and returns the last index it covered as <c>End</c>.
    /// </summary>
    private static (List<StoredItem> Items, long? End) ReadBlockItems(SqliteConnection connection, string jobId, ItemQuery query, long low, long high, long[]? indexes, ItemsFileInfo? itemsFile)
    {
        var items = new List<StoredItem>();
        var wanted = indexes?.ToHashSet();
        var sql = new StringBuilder(query.InputsOnly
            ? $"SELECT {BlockColumns} FROM item_blocks WHERE job_id = ?1 AND last_idx >= ?2 AND first_idx <= ?3"
            : $"SELECT {BlockColumns}, outcomes FROM item_blocks WHERE job_id = ?1 AND last_idx >= ?2 AND first_idx <= ?3");
        if (query.Statuses is { Count: > 0 } statuses)
        {
            sql.Append(" AND status IN (").AppendJoin(", ", statuses.Select(s => (int)s)).Append(')');
        }

        using var select = new RawStatement(connection, sql.Append(" ORDER BY first_idx").ToString());
        select.Bind(1, jobId);
        select.Bind(2, low);
        select.Bind(3, high);
        long? covered = null;
        while (select.Step())
        {
            if (wanted is null && items.Count >= PageSize)
            {
                return (items, covered);
            }

            foreach (var item in ReadBlock(select, query.InputsOnly, itemsFile))
            {
                if (item.Index >= low && item.Index <= high && (wanted is null || wanted.Contains(item.Index)))
                {
                    items.Add(item);
                }
            }

            covered = Math.Min(select.Int64(1), high);
        }

        return (items, null);
    }

    /// <summary>
    /// Up to a page of item rows in index order. A filter on statuses that are rare in the job (by its counts:
    /// the failed items among a million) reads each status through the status index, where its rows come in
    /// index order, and merges them, so it costs a page rather than a scan of the job; common statuses (a
    /// resume's unfinished items) read the rows in index order and skip the others, which stops after a page.
    /// </summary>
    private static List<StoredItem> ReadItemRows(SqliteConnection connection, SqliteTransaction snapshot, string jobId, ItemQuery query, long? afterIndex, long[]? indexes)
    {
        if (query.Statuses is not { Count: > 0 } statuses || indexes is not null || !AreRare(connection, snapshot, jobId, statuses))
        {
            return ReadItemRows(connection, snapshot, jobId, query, afterIndex, indexes, query.Statuses, byStatusIndex: false);
        }

        var items = new List<StoredItem>();
        foreach (var status in statuses.Distinct())
        {
            items.AddRange(ReadItemRows(connection, snapshot, jobId, query, afterIndex, indexes, [status], byStatusIndex: true));
        }

        if (statuses.Count > 1)
        {
            items.Sort((a, b) => a.Index.CompareTo(b.Index));
            if (items.Count > PageSize)
            {
                items.RemoveRange(PageSize, items.Count - PageSize);
            }
        }

        return items;
    }

    /// <summary>Whether the statuses hold under an eighth of the job's items (from the counts the store keeps).</summary>
    private static bool AreRare(SqliteConnection connection, SqliteTransaction snapshot, string jobId, IReadOnlyCollection<ItemStatus> statuses)
    {
        using var command = connection.CreateCommand();
        command.Transaction = snapshot;
        command.CommandText =
            $"SELECT coalesce(sum(CASE WHEN status IN ({string.Join(", ", statuses.Select(s => (int)s))}) THEN n END), 0), coalesce(sum(n), 0) FROM job_counts WHERE job_id = $job";
        command.Parameters.AddWithValue("$job", jobId);
        using var r = command.ExecuteReader();
        return r.Read() && r.GetInt64(0) * 8 < r.GetInt64(1);
    }

    private static List<StoredItem> ReadItemRows(
        SqliteConnection connection, SqliteTransaction snapshot, string jobId, ItemQuery query, long? afterIndex, long[]? indexes, IReadOnlyCollection<ItemStatus>? statuses, bool byStatusIndex)
    {
        using var command = connection.CreateCommand();
        command.Transaction = snapshot;
        var from = byStatusIndex ? "items INDEXED BY items_by_status" : "items";
        var sql = new StringBuilder(query.InputsOnly ? $"SELECT idx, key, input FROM {from} WHERE job_id = $job" : $"SELECT {ItemColumns} FROM {from} WHERE job_id = $job");
        command.Parameters.AddWithValue("$job", jobId);
        if (statuses is { Count: > 0 })
        {
            sql.Append(" AND status IN (").AppendJoin(", ", statuses.Select(s => (int)s)).Append(')');
        }

        if (afterIndex is { } after)
        {
            sql.Append(" AND idx > $after");
            command.Parameters.AddWithValue("$after", after);
        }

        if (indexes is not null)
        {
            sql.Append(" AND idx IN (").AppendJoin(", ", indexes).Append(')');
        }

        sql.Append(" ORDER BY idx LIMIT ").Append(PageSize);
        command.CommandText = sql.ToString();
        using var r = command.ExecuteReader();
        var items = new List<StoredItem>();
        while (r.Read())
        {
            if (query.InputsOnly)
            {
                items.Add(new StoredItem { Index = r.GetInt64(0), Key = r.IsDBNull(1) ? null : r.GetString(1), Input = r.GetString(2) });
                continue;
            }

            items.Add(new StoredItem
            {
                Index = r.GetInt64(0),
                Key = r.IsDBNull(1) ? null : r.GetString(1),
                Input = r.GetString(2),
                Status = (ItemStatus)r.GetInt32(3),
                Attempts = r.GetInt32(4),
                Output = r.IsDBNull(5) ? null : r.GetString(5),
                Error = ReadError(r, 6),
                StartedAt = r.IsDBNull(10) ? null : FromMs(r.GetInt64(10)),
                EndedAt = r.IsDBNull(11) ? null : FromMs(r.GetInt64(11)),
                Duration = r.IsDBNull(12) ? null : TimeSpan.FromMilliseconds(r.GetDouble(12)),
            });
        }

        return items;
    }

    private static ItemError? ReadError(SqliteDataReader r, int first) =>
        r.IsDBNull(first)
            ? null
            : new ItemError(r.GetString(first), r.IsDBNull(first + 1) ? string.Empty : r.GetString(first + 1), r.IsDBNull(first + 2) ? null : r.GetString(first + 2), !r.IsDBNull(first + 3) && r.GetInt32(first + 3) == 1);
}
