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
        "created_at, started_at, ended_at, message, run_count, owner_host, owner_pid, owner_started, heartbeat_at, stop_request, items_file, stages, undo, rolling_back, input_open, notify";

    /// <inheritdoc/>
    public Task CreateJobAsync(JobRecord job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        return Task.FromResult(Guard(() =>
        {
            using var connection = Connect();
            using var command = connection.CreateCommand();
            command.CommandText =
                "INSERT INTO jobs (id, name, description, tags, status, settings, operation_kind, operation, input_format, output_format, created_at, items_file, stages, undo, " +
                "owner_host, owner_pid, owner_started, heartbeat_at, input_open, notify) " +
                "VALUES ($id, $name, $description, $tags, $status, $settings, $kind, $operation, $input, $output, $created, $itemsFile, $stages, $undo, $host, $pid, $started, $beat, $inputOpen, $notify)";
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
            command.Parameters.AddWithValue("$stages", job.Stages is { } stages ? JsonSerializer.Serialize(stages, StoreJson.Options) : DBNull.Value);
            command.Parameters.AddWithValue("$undo", job.Undo is { } undo ? JsonSerializer.Serialize(undo, StoreJson.Options) : DBNull.Value);
            command.Parameters.AddWithValue("$host", (object?)job.Lease?.Host ?? DBNull.Value);
            command.Parameters.AddWithValue("$pid", (object?)job.Lease?.ProcessId ?? DBNull.Value);
            command.Parameters.AddWithValue("$started", job.Lease is { } creator ? ToMs(creator.ProcessStartedAt) : DBNull.Value);
            command.Parameters.AddWithValue("$beat", job.Lease is { } beat ? ToMs(beat.HeartbeatAt) : DBNull.Value);
            command.Parameters.AddWithValue("$inputOpen", job.InputIncomplete ? 1 : 0);
            command.Parameters.AddWithValue("$notify", job.Notify is { Count: > 0 } notify ? JsonSerializer.Serialize(notify, StoreJson.Options) : DBNull.Value);
            if (job.Stages is not null)
            {
                // The stages' ranges, which the count triggers key counts by (schema 9).
                command.CommandText += "; INSERT INTO job_stages (job_id, stage, first_idx, last_idx) " +
                    "SELECT $id, key, coalesce(json_extract(value, '$.firstIndex'), 0), coalesce(json_extract(value, '$.firstIndex'), 0) + coalesce(json_extract(value, '$.count'), 0) - 1 FROM json_each($stages)";
            }

            using var transaction = connection.BeginTransaction();
            command.Transaction = transaction;
            var written = command.ExecuteNonQuery();
            transaction.Commit();
            return written;
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
            var (where, byLiveness) = JobFilter(query);
            var sql = $"SELECT {JobColumns} FROM jobs{where} ORDER BY created_at DESC, rowid DESC";
            var pageInSql = !byLiveness && (query.Skip is not null || query.Newest is not null);
            if (pageInSql)
            {
                sql += " LIMIT $limit OFFSET $offset";
            }

            using var connection = Connect();
            var jobs = ReadJobs(connection, sql, p =>
            {
                BindJobFilter(p, query);
                if (pageInSql)
                {
                    p.AddWithValue("$limit", query.Newest ?? -1);
                    p.AddWithValue("$offset", query.Skip ?? 0);
                }
            });
            if (!byLiveness)
            {
                return (IReadOnlyList<JobRecord>)jobs;
            }

            return jobs.Where(j => query.Statuses!.Contains(j.Status)).Skip(query.Skip ?? 0).Take(query.Newest ?? int.MaxValue).ToList();
        }));
    }

    /// <inheritdoc/>
    public async Task<int> CountJobsAsync(JobQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var (where, byLiveness) = JobFilter(query);
        if (byLiveness)
        {
            return (await FindJobsAsync(query.Unpaged, cancellationToken).ConfigureAwait(false)).Count;
        }

        return Guard(() =>
        {
            using var connection = Connect();
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT count(*) FROM jobs{where}";
            BindJobFilter(command.Parameters, query);
            return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        });
    }

    /// <summary>
    /// The query's filters as a WHERE clause (bound by <see cref="BindJobFilter"/>). Running and Interrupted
    /// are one stored status told apart by the owner's liveness: when only one of them is asked for, the
    /// clause keeps both and <c>ByLiveness</c> says the caller must filter (and page) the records it read.
    /// </summary>
    private static (string Where, bool ByLiveness) JobFilter(JobQuery query)
    {
        var where = new StringBuilder(" WHERE 1 = 1");
        if (query.Id is not null) where.Append(" AND id = $id");
        if (query.Name is not null) where.Append(@" AND name LIKE $name ESCAPE '\'");
        if (query.Tag is not null) where.Append(" AND EXISTS (SELECT 1 FROM json_each(jobs.tags) WHERE value = $tag COLLATE NOCASE)");
        if (query.Since is not null) where.Append(" AND created_at >= $since");
        var byLiveness = false;
        if (query.Statuses is { Count: > 0 } statuses)
        {
            var stored = statuses.Select(s => s == JobStatus.Interrupted ? JobStatus.Running : s).Distinct().Select(s => ((int)s).ToString(System.Globalization.CultureInfo.InvariantCulture));
            where.Append(" AND status IN (").AppendJoin(", ", stored).Append(')');
            byLiveness = statuses.Contains(JobStatus.Running) != statuses.Contains(JobStatus.Interrupted);
        }
        else
        {
            where.Append(" AND status <> ").Append((int)JobStatus.Creating);
        }

        return (where.ToString(), byLiveness);
    }

    private static void BindJobFilter(SqliteParameterCollection parameters, JobQuery query)
    {
        if (query.Id is not null) parameters.AddWithValue("$id", query.Id);
        if (query.Name is not null) parameters.AddWithValue("$name", query.NameLikePattern);
        if (query.Tag is not null) parameters.AddWithValue("$tag", query.Tag);
        if (query.Since is { } since) parameters.AddWithValue("$since", ToMs(since));
    }

    /// <inheritdoc/>
    public Task EndInputAsync(string jobId, CancellationToken cancellationToken = default) =>
        Task.FromResult(Guard(() =>
        {
            using var connection = Connect();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE jobs SET input_open = 0 WHERE id = $id";
            command.Parameters.AddWithValue("$id", jobId);
            return command.ExecuteNonQuery();
        }));

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
            command.CommandText = "UPDATE jobs SET status = $status, message = $message, stop_request = NULL, owner_host = NULL, owner_pid = NULL, owner_started = NULL, heartbeat_at = NULL WHERE id = $id";
            command.Parameters.AddWithValue("$status", (int)status);
            command.Parameters.AddWithValue("$message", (object?)message ?? DBNull.Value);
            command.Parameters.AddWithValue("$id", jobId);
            return command.ExecuteNonQuery();
        }));

    /// <inheritdoc/>
    public Task BeginRollbackAsync(string jobId, CancellationToken cancellationToken = default) =>
        Task.FromResult(Guard(() =>
        {
            using var connection = Connect();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE jobs SET rolling_back = 1 WHERE id = $id";
            command.Parameters.AddWithValue("$id", jobId);
            return command.ExecuteNonQuery();
        }));

    /// <inheritdoc/>
    public Task<bool> RemoveJobAsync(string jobId, CancellationToken cancellationToken = default) =>
        Task.FromResult(Guard(() =>
        {
            using var connection = Connect();
            using var command = connection.CreateCommand();
            command.Parameters.AddWithValue("$id", jobId);
            command.Parameters.AddWithValue("$batch", RemoveBatch);

            // The item rows in batches, a transaction each, so other writers (a run's checkpoints) wait a moment
            // at most; a removal cut short leaves a job that a second removal finishes.
            foreach (var table in new[] { "item_history", "item_retries", "items", "item_blocks" })
            {
                var key = table == "item_blocks" ? "first_idx" : "idx";
                command.CommandText = $"DELETE FROM {table} WHERE job_id = $id AND {key} IN (SELECT {key} FROM {table} WHERE job_id = $id LIMIT $batch)";
                while (command.ExecuteNonQuery() > 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }
            }

            using var transaction = connection.BeginTransaction();
            command.Transaction = transaction;
            command.CommandText = "DELETE FROM job_counts WHERE job_id = $id; DELETE FROM job_stages WHERE job_id = $id; DELETE FROM job_notices WHERE job_id = $id;";
            command.ExecuteNonQuery();
            command.CommandText = "DELETE FROM jobs WHERE id = $id";
            var removed = command.ExecuteNonQuery() > 0;
            transaction.Commit();
            return removed;
        }));

    /// <summary>Rows deleted per transaction when a job is removed.</summary>
    private const int RemoveBatch = 5_000;

    /// <inheritdoc/>
    public Task<IReadOnlyList<StageTally>> GetStageTalliesAsync(JobRecord job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        return Task.FromResult(Guard<IReadOnlyList<StageTally>>(() =>
        {
            if (job.Stages is null)
            {
                return [];
            }

            // Counts kept by the triggers and times kept by checkpoints (schema 9): a few rows whatever the stages hold.
            using var connection = Connect();
            using var command = connection.CreateCommand();
            command.CommandText =
                "SELECT s.stage, s.started_at, s.ended_at, c.status, c.n FROM job_stages s " +
                "LEFT JOIN job_counts c ON c.job_id = s.job_id AND c.stage = s.stage WHERE s.job_id = $id ORDER BY s.stage";
            command.Parameters.AddWithValue("$id", job.Id);
            var tallies = new SortedDictionary<int, StageTally>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var stage = reader.GetInt32(0);
                var tally = tallies.GetValueOrDefault(stage) ?? new StageTally(
                    stage, new ItemCounts(), reader.IsDBNull(1) ? null : FromMs(reader.GetInt64(1)), reader.IsDBNull(2) ? null : FromMs(reader.GetInt64(2)));
                tallies[stage] = reader.IsDBNull(3) ? tally : tally with { Counts = tally.Counts.With((ItemStatus)reader.GetInt32(3), reader.GetInt64(4)) };
            }

            return [.. tallies.Values];
        }));
    }

    /// <inheritdoc/>
    public async Task<StoreStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default)
    {
        var jobs = await FindJobsAsync(new JobQuery(), cancellationToken).ConfigureAwait(false);
        return StoreStatisticsBuilder.Build(jobs) with { StoreBytes = await GetStoreBytesAsync(cancellationToken).ConfigureAwait(false) };
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

        var counts = ReadCounts(connection, jobs, transaction);
        var now = _time.GetUtcNow();
        for (var i = 0; i < jobs.Count; i++)
        {
            var job = jobs[i] with { Counts = counts.GetValueOrDefault(jobs[i].Id) ?? new ItemCounts() };
            if (job.Status == JobStatus.Running && (job.Lease is null || !job.Lease.IsAlive(now)))
            {
                job = job with { Status = JobStatus.Interrupted, Message = job.Message ?? "The process running this job ended without finishing it; resume it to run the rest." };
            }
            else if (job.Status == JobStatus.Creating && (job.Lease is null || !job.Lease.IsAlive(now)))
            {
                job = job with { Message = JobCreation.CutShortMessage };
            }

            jobs[i] = JobCreation.ShowingInput(job);
        }

        return jobs;
    }

    /// <summary>The jobs' counts, kept per status by the store's triggers (see schema 4), so no item is read.</summary>
    private static Dictionary<string, ItemCounts> ReadCounts(SqliteConnection connection, List<JobRecord> jobs, SqliteTransaction? transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT job_id, status, n FROM job_counts";
        if (jobs.Count <= 500)
        {
            // A page of jobs reads its own rows; a long list (statistics) reads the whole table once.
            command.CommandText += " WHERE job_id IN (SELECT value FROM json_each($ids))";
            command.Parameters.AddWithValue("$ids", JsonSerializer.Serialize(jobs.Select(j => j.Id), StoreJson.Options));
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
        Stages = r.IsDBNull(21) ? null : JsonSerializer.Deserialize<JobStage[]>(r.GetString(21), StoreJson.Options),
        Undo = r.IsDBNull(22) ? null : JsonSerializer.Deserialize<UndoDefinition>(r.GetString(22), StoreJson.Options),
        RollingBack = r.GetInt32(23) != 0,
        InputIncomplete = r.GetInt32(24) != 0,
        Notify = r.IsDBNull(25) ? null : JsonSerializer.Deserialize<Notifications.NotificationTarget[]>(r.GetString(25), StoreJson.Options),
    };

    private static void AddLease(SqliteCommand command, JobLease lease)
    {
        command.Parameters.AddWithValue("$host", lease.Host);
        command.Parameters.AddWithValue("$pid", lease.ProcessId);
        command.Parameters.AddWithValue("$started", ToMs(lease.ProcessStartedAt));
    }

    internal static long ToMs(DateTimeOffset value) =>
        value == DateTimeOffset.MinValue ? long.MinValue : value.ToUnixTimeMilliseconds();

    internal static DateTimeOffset FromMs(long value) =>
        value == long.MinValue ? DateTimeOffset.MinValue : DateTimeOffset.FromUnixTimeMilliseconds(value);
}
