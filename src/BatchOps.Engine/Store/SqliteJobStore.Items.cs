using System.Runtime.CompilerServices;
using System.Text;
using BatchOps.Engine.Jobs;
using Microsoft.Data.Sqlite;

namespace BatchOps.Engine.Store;

public sealed partial class SqliteJobStore
{
    private const int PageSize = 1000;
    private const string ItemColumns =
        "idx, key, input, status, attempts, output, error_type, error_message, error_detail, error_retryable, started_at, ended_at, duration_ms";

    /// <inheritdoc/>
    public Task AddItemsAsync(string jobId, IReadOnlyList<StoredItem> items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        return Task.FromResult(Write(writer =>
        {
            using var transaction = writer.Connection.BeginTransaction();
            var insert = writer.Insert;
            insert.Bind(1, jobId);
            foreach (var item in items)
            {
                insert.Bind(2, item.Index);
                insert.Bind(3, item.Key);
                insert.Bind(4, item.Input);
                insert.Bind(5, (int)item.Status);
                insert.Execute();
            }

            transaction.Commit();
            return items.Count;
        }));
    }

    /// <inheritdoc/>
    public Task CheckpointAsync(string jobId, IReadOnlyList<ItemOutcome> outcomes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        return Task.FromResult(Write(writer =>
        {
            using var transaction = writer.Connection.BeginTransaction();
            var checkpoint = writer.Checkpoint;
            checkpoint.Bind(1, jobId);
            foreach (var outcome in outcomes)
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

            transaction.Commit();
            return outcomes.Count;
        }));
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<StoredItem> GetItemsAsync(string jobId, ItemQuery query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Indexes is { } indexes)
        {
            // Page through the wanted indexes in order, a bounded IN list at a time.
            foreach (var page in indexes.Distinct().Order().Chunk(500))
            {
                cancellationToken.ThrowIfCancellationRequested();
                foreach (var item in ReadItemPage(jobId, query, afterIndex: null, page))
                {
                    yield return item;
                }
            }

            yield break;
        }

        long after = -1;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var page = ReadItemPage(jobId, query, after, indexes: null);
            foreach (var item in page)
            {
                yield return item;
            }

            if (page.Count < PageSize)
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

    private List<StoredItem> ReadItemPage(string jobId, ItemQuery query, long? afterIndex, long[]? indexes) => Guard(() =>
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        var sql = new StringBuilder(query.InputsOnly ? "SELECT idx, key, input FROM items WHERE job_id = $job" : $"SELECT {ItemColumns} FROM items WHERE job_id = $job");
        command.Parameters.AddWithValue("$job", jobId);
        if (afterIndex is { } after)
        {
            sql.Append(" AND idx > $after");
            command.Parameters.AddWithValue("$after", after);
        }

        if (indexes is not null)
        {
            sql.Append(" AND idx IN (").AppendJoin(", ", indexes).Append(')');
        }

        if (query.Statuses is { Count: > 0 } statuses)
        {
            sql.Append(" AND status IN (").AppendJoin(", ", statuses.Select(s => (int)s)).Append(')');
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
    });

    private static ItemError? ReadError(SqliteDataReader r, int first) =>
        r.IsDBNull(first)
            ? null
            : new ItemError(r.GetString(first), r.IsDBNull(first + 1) ? string.Empty : r.GetString(first + 1), r.IsDBNull(first + 2) ? null : r.GetString(first + 2), !r.IsDBNull(first + 3) && r.GetInt32(first + 3) == 1);
}
