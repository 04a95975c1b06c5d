using System.Text;
using System.Text.Json;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using Microsoft.Data.Sqlite;

namespace BatchOps.Engine.Store;

public sealed partial class SqliteJobStore
{
    private const string JobColumns =
        "id, name, description, tags, status, settings, operation_kind, operation, input_format, output_format, " +
        "created_at, started_at, ended_at, message, run_count, owner_host, owner_pid, owner_started, heartbeat_at, stop_request, items_file";

    /// <inheritdoc/>
    public Task CreateJobAsync(JobRecord job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        return Task.FromResult(Guard(() =>
        {
            using var connection = Connect();
            using var command = connection.CreateCommand();
            command.CommandText =
                "INSERT INTO jobs (id, name, description, tags, status, settings, operation_kind, operation, input_format, output_format, created_at, items_file) " +
                "VALUES ($id, $name, $description, $tags, $status, $settings, $kind, $operation, $input, $output, $created, $itemsFile)";
            command.Parameters.AddWithValue("$id", job.Id);
            command.Parameters.AddWithValue("$name", job.Name);
            command.Parameters.AddWithValue("$description", (object?)job.Description ?? DBNull.Value);
            command.Parameters.AddWithValue("$tags", JsonSerializer.Serialize(job.Tags, StoreJson.Options));
            command.Parameters.AddWithValue("$status", (int)job.Status);
            command.Parameters.AddWithValue("$settings", JsonSerializer.Serialize(job.Settings, StoreJson.Options));
            command.Parameters.AddWithValue("$kind", job.OperationKind);
            command.Parameters.AddWithValue("$operation", job.Operation);
            command.Parameters.AddWithValue("$input", job.InputFormat);
            command.Parameters.AddWithValue("$output", job.OutputFormat);
            command.Parameters.AddWithValue("$created", ToMs(job.CreatedAt == default ? _time.GetUtcNow() : job.CreatedAt));
            command.Parameters.AddWithValue("$itemsFile", job.ItemsFile is { } file ? JsonSerializer.Serialize(file, StoreJson.Options) : DBNull.Value);
            return command.ExecuteNonQuery();
        }));
    }

    /// <inheritdoc/>
    public Task<JobRecord?> GetJobAsync(string jobId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        return Task.FromResult(Guard(() =>
        {
            using var connection = Connect();
            return ReadJobs(connection, $"SELECT {JobColumns} FROM jobs WHERE id = $id", p => p.AddWithValue("$id", jobId)).SingleOrDefault();
        }));
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<JobRecord>> FindJobsAsync(JobQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        return Task.FromResult(Guard(() =>
        {
            var sql = new StringBuilder($"SELECT {JobColumns} FROM jobs WHERE 1 = 1");
            if (query.Id is not null) sql.Append(" AND id = $id");
            if (query.Name is not null) sql.Append(@" AND name LIKE $name ESCAPE '\'");
            if (query.Tag is not null) sql.Append(" AND EXISTS (SELECT 1 FROM json_each(jobs.tags) WHERE value = $tag COLLATE NOCASE)");
            if (query.Since is not null) sql.Append(" AND created_at >= $since");
            sql.Append(" ORDER BY created_at DESC, rowid DESC");
            using var connection = Connect();
            var jobs = ReadJobs(connection, sql.ToString(), p =>
            {
                if (query.Id is not null) p.AddWithValue("$id", query.Id);
                if (query.Name is not null) p.AddWithValue("$name", WildcardToLike(query.Name));
                if (query.Tag is not null) p.AddWithValue("$tag", query.Tag);
                if (query.Since is { } since) p.AddWithValue("$since", ToMs(since));
            });
            IEnumerable<JobRecord> kept = jobs;
            if (query.Statuses is { Count: > 0 } statuses)
            {
                kept = kept.Where(j => statuses.Contains(j.Status));
            }

            if (query.Newest is { } newest)
            {
                kept = kept.Take(newest);
            }

            return (IReadOnlyList<JobRecord>)kept.ToList();
        }));
    }

    /// <inheritdoc/>
    public Task<bool> TryAcquireLeaseAsync(string jobId, JobLease lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        return Task.FromResult(Guard(() =>
        {
            using var connection = Connect();
            using var transaction = connection.BeginTransaction();
            var job = ReadJobs(connection, $"SELECT {JobColumns} FROM jobs WHERE id = $id", p => p.AddWithValue("$id", jobId), transaction).SingleOrDefault()
                ?? throw new StoreException($"There is no job '{jobId}' in '{Location}'.");
            if (job.Lease is { } holder && !holder.SameOwnerAs(lease) && holder.IsAlive(_time.GetUtcNow()))
            {
                return false;
            }

            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText =
                "UPDATE jobs SET status = $running, owner_host = $host, owner_pid = $pid, owner_started = $started, heartbeat_at = $now, " +
                "started_at = $now, ended_at = NULL, message = NULL, stop_request = NULL, run_count = run_count + 1 WHERE id = $id";
            command.Parameters.AddWithValue("$running", (int)JobStatus.Running);
            AddLease(command, lease);
            command.Parameters.AddWithValue("$now", ToMs(_time.GetUtcNow()));
            command.Parameters.AddWithValue("$id", jobId);
            command.ExecuteNonQuery();
            transaction.Commit();
            return true;
        }));
    }

    /// <inheritdoc/>
    public Task<StopMode?> RenewLeaseAsync(string jobId, JobLease lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        return Task.FromResult(Guard(() =>
        {
            using var connection = Connect();
            using var command = connection.CreateCommand();
            command.CommandText =
                "UPDATE jobs SET heartbeat_at = $now WHERE id = $id AND owner_host = $host AND owner_pid = $pid AND owner_started = $started RETURNING stop_request";
            command.Parameters.AddWithValue("$now", ToMs(_time.GetUtcNow()));
            command.Parameters.AddWithValue("$id", jobId);
            AddLease(command, lease);
            using var reader = command.ExecuteReader();
            if (!reader.Read())
            {
                // Someone else took the lease (ours had expired): stop at once, they own the job now.
                return (StopMode?)StopMode.Forced;
            }

            return reader.IsDBNull(0) ? null : (StopMode)reader.GetInt32(0);
        }));
    }

    /// <inheritdoc/>
    public Task ReleaseLeaseAsync(string jobId, JobLease lease, JobStatus status, string? message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        return Task.FromResult(Guard(() =>
        {
            using var connection = Connect();
            using var command = connection.CreateCommand();
            command.CommandText =
                "UPDATE jobs SET status = $status, message = $message, ended_at = $now, owner_host = NULL, owner_pid = NULL, owner_started = NULL, " +
                "heartbeat_at = NULL, stop_request = NULL WHERE id = $id AND owner_host = $host AND owner_pid = $pid AND owner_started = $started";
            command.Parameters.AddWithValue("$status", (int)status);
            command.Parameters.AddWithValue("$message", (object?)message ?? DBNull.Value);
            command.Parameters.AddWithValue("$now", ToMs(_time.GetUtcNow()));
            command.Parameters.AddWithValue("$id", jobId);
            AddLease(command, lease);
            return command.ExecuteNonQuery();
        }));
    }

    /// <inheritdoc/>
    public Task<bool> RequestStopAsync(string jobId, StopMode mode, CancellationToken cancellationToken = default) =>
        Task.FromResult(Guard(() =>
        {
            using var connection = Connect();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE jobs SET stop_request = max(coalesce(stop_request, 0), $mode) WHERE id = $id";
            command.Parameters.AddWithValue("$mode", (int)mode);
            command.Parameters.AddWithValue("$id", jobId);
            return command.ExecuteNonQuery() > 0;
        }));

    /// <inheritdoc/>
    public Task SetStatusAsync(string jobId, JobStatus status, string? message, CancellationToken cancellationToken = default) =>
        Task.FromResult(Guard(() =>
        {
            using var connection = Connect();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE jobs SET status = $status, message = $message, stop_request = NULL WHERE id = $id";
            command.Parameters.AddWithValue("$status", (int)status);
            command.Parameters.AddWithValue("$message", (object?)message ?? DBNull.Value);
            command.Parameters.AddWithValue("$id", jobId);
            return command.ExecuteNonQuery();
        }));

    /// <inheritdoc/>
    public Task<bool> RemoveJobAsync(string jobId, CancellationToken cancellationToken = default) =>
        Task.FromResult(Guard(() =>
        {
            using var connection = Connect();
            using var transaction = connection.BeginTransaction();
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.Parameters.AddWithValue("$id", jobId);
            command.CommandText = "DELETE FROM item_history WHERE job_id = $id; DELETE FROM items WHERE job_id = $id; DELETE FROM item_blocks WHERE job_id = $id;";
            command.ExecuteNonQuery();
            command.CommandText = "DELETE FROM jobs WHERE id = $id";
            var removed = command.ExecuteNonQuery() > 0;
            transaction.Commit();
            return removed;
        }));

    /// <inheritdoc/>
    public async Task<StoreStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default)
    {
        var jobs = await FindJobsAsync(new JobQuery(), cancellationToken).ConfigureAwait(false);
        return StoreStatisticsBuilder.Build(jobs);
    }

    private List<JobRecord> ReadJobs(SqliteConnection connection, string sql, Action<SqliteParameterCollection> bind, SqliteTransaction? transaction = null)
    {
        var jobs = new List<JobRecord>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = sql;
            command.Transaction = transaction;
            bind(command.Parameters);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                jobs.Add(ReadJob(reader));
            }
        }

        if (jobs.Count == 0)
        {
            return jobs;
        }

        var counts = ReadCounts(connection, jobs.Count == 1 ? jobs[0].Id : null, transaction);
        var now = _time.GetUtcNow();
        for (var i = 0; i < jobs.Count; i++)
        {
            var job = jobs[i] with { Counts = counts.GetValueOrDefault(jobs[i].Id) ?? new ItemCounts() };
            if (job.Status == JobStatus.Running && (job.Lease is null || !job.Lease.IsAlive(now)))
            {
                job = job with { Status = JobStatus.Interrupted, Message = job.Message ?? "The process running this job ended without finishing it; resume it to run the rest." };
            }

            jobs[i] = job;
        }

        return jobs;
    }

    private static Dictionary<string, ItemCounts> ReadCounts(SqliteConnection connection, string? jobId, SqliteTransaction? transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        var where = jobId is null ? string.Empty : " WHERE job_id = $id";
        command.CommandText =
            $"SELECT job_id, status, sum(n) FROM (SELECT job_id, status, count(*) AS n FROM items{where} GROUP BY job_id, status " +
            $"UNION ALL SELECT job_id, status, sum(last_idx - first_idx + 1) FROM item_blocks{where} GROUP BY job_id, status) GROUP BY job_id, status";
        if (jobId is not null)
        {
            command.Parameters.AddWithValue("$id", jobId);
        }

        var counts = new Dictionary<string, ItemCounts>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var id = reader.GetString(0);
            counts[id] = (counts.GetValueOrDefault(id) ?? new ItemCounts()).With((ItemStatus)reader.GetInt32(1), reader.GetInt64(2));
        }

        return counts;
    }

    private static JobRecord ReadJob(SqliteDataReader r) => new()
    {
        Id = r.GetString(0),
        Name = r.GetString(1),
        Description = r.IsDBNull(2) ? null : r.GetString(2),
        Tags = JsonSerializer.Deserialize<string[]>(r.GetString(3), StoreJson.Options) ?? [],
        Status = (JobStatus)r.GetInt32(4),
        Settings = JsonSerializer.Deserialize<JobSettings>(r.GetString(5), StoreJson.Options) ?? new JobSettings(),
        OperationKind = r.GetString(6),
        Operation = r.GetString(7),
        InputFormat = r.GetString(8),
        OutputFormat = r.GetString(9),
        CreatedAt = FromMs(r.GetInt64(10)),
        StartedAt = r.IsDBNull(11) ? null : FromMs(r.GetInt64(11)),
        EndedAt = r.IsDBNull(12) ? null : FromMs(r.GetInt64(12)),
        Message = r.IsDBNull(13) ? null : r.GetString(13),
        RunCount = r.GetInt32(14),
        Lease = r.IsDBNull(15) ? null : new JobLease(r.GetString(15), r.GetInt32(16), FromMs(r.GetInt64(17)), FromMs(r.GetInt64(18))),
        StopRequest = r.IsDBNull(19) ? null : (StopMode)r.GetInt32(19),
        ItemsFile = r.IsDBNull(20) ? null : JsonSerializer.Deserialize<ItemsFileInfo>(r.GetString(20), StoreJson.Options),
    };

    private static void AddLease(SqliteCommand command, JobLease lease)
    {
        command.Parameters.AddWithValue("$host", lease.Host);
        command.Parameters.AddWithValue("$pid", lease.ProcessId);
        command.Parameters.AddWithValue("$started", ToMs(lease.ProcessStartedAt));
    }

    /// <summary>Turns a * and ? wildcard pattern into a LIKE pattern (escape character \).</summary>
    internal static string WildcardToLike(string pattern)
    {
        var like = new StringBuilder(pattern.Length + 4);
        foreach (var c in pattern)
        {
            like.Append(c switch
            {
                '*' => "%",
                '?' => "_",
                '%' or '_' or '\\' => "\\" + c,
                _ => c.ToString(),
            });
        }

        return like.ToString();
    }

    internal static long ToMs(DateTimeOffset value) =>
        value == DateTimeOffset.MinValue ? long.MinValue : value.ToUnixTimeMilliseconds();

    internal static DateTimeOffset FromMs(long value) =>
        value == long.MinValue ? DateTimeOffset.MinValue : DateTimeOffset.FromUnixTimeMilliseconds(value);
}
