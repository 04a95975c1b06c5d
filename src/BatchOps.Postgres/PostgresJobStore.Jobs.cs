using System.Text;
using System.Text.Json;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using Npgsql;
using NpgsqlTypes;

namespace BatchOps.Postgres;

public sealed partial class PostgresJobStore
{
    private const string JobColumns =
        "j.id, j.name, j.description, j.tags::text, j.status, j.settings, j.operation_kind, j.operation, j.input_format, j.output_format, " +
        "j.created_at, j.started_at, j.ended_at, j.message, j.run_count, j.owner_host, j.owner_pid, j.owner_started, j.heartbeat_at, j.stop_request, " +
        "j.items_file, j.stages, j.undo, j.rolling_back, j.queued, " +
        "(j.queued AND EXISTS (SELECT 1 FROM batchops.job_chunks c WHERE c.job_id = j.id AND c.claimed AND c.lease_until > clock_timestamp())) AS worked, j.input_open, j.notify";

    /// <inheritdoc/>
    public Task CreateJobAsync(JobRecord job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        return GuardAsync(async () =>
        {
            await using var command = _source.CreateCommand(
                "INSERT INTO batchops.jobs (id, name, description, tags, status, settings, operation_kind, operation, input_format, output_format, created_at, items_file, stages, undo, " +
                "owner_host, owner_pid, owner_started, heartbeat_at, input_open, notify) " +
                "VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)");
            var p = command.Parameters;
            p.Add(new() { Value = job.Id });
            p.Add(new() { Value = job.Name });
            p.Add(new() { Value = Db(job.Description), NpgsqlDbType = NpgsqlDbType.Text });
            p.Add(new() { Value = JsonSerializer.Serialize(job.Tags, StoreJson.Options), NpgsqlDbType = NpgsqlDbType.Text });
            p.Add(new() { Value = (int)job.Status });
            p.Add(new() { Value = JsonSerializer.Serialize(job.Settings, StoreJson.Options) });
            p.Add(new() { Value = job.OperationKind });
            p.Add(new() { Value = job.Operation });
            p.Add(new() { Value = job.InputFormat });
            p.Add(new() { Value = job.OutputFormat });
            p.Add(new() { Value = (job.CreatedAt == default ? _time.GetUtcNow() : job.CreatedAt).ToUniversalTime() });
            p.Add(new() { Value = job.ItemsFile is { } file ? JsonSerializer.Serialize(file, StoreJson.Options) : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            p.Add(new() { Value = job.Stages is { } stages ? JsonSerializer.Serialize(stages, StoreJson.Options) : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            p.Add(new() { Value = job.Undo is { } undo ? JsonSerializer.Serialize(undo, StoreJson.Options) : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            p.Add(new() { Value = (object?)job.Lease?.Host ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            p.Add(new() { Value = (object?)job.Lease?.ProcessId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer });
            p.Add(new() { Value = job.Lease is { } creator ? ToMs(creator.ProcessStartedAt) : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint });
            p.Add(new() { Value = job.Lease is { } beat ? beat.HeartbeatAt.ToUniversalTime() : DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            p.Add(new() { Value = job.InputIncomplete });
            p.Add(new() { Value = job.Notify is { Count: > 0 } notify ? JsonSerializer.Serialize(notify, StoreJson.Options) : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            if (job.Stages is not null)
            {
                // The stages' ranges, which counts are keyed by (schema 10), in the job's statement (one transaction).
                command.CommandText = "WITH job AS (" + command.CommandText + " RETURNING id, stages) " +
                    "INSERT INTO batchops.job_stages (job_id, stage, first_idx, last_idx) " +
                    "SELECT job.id, s.ord - 1, coalesce((s.value ->> 'firstIndex')::bigint, 0), coalesce((s.value ->> 'firstIndex')::bigint, 0) + coalesce((s.value ->> 'count')::bigint, 0) - 1 " +
                    "FROM job CROSS JOIN LATERAL jsonb_array_elements(job.stages::jsonb) WITH ORDINALITY AS s(value, ord)";
            }

            try
            {
                return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException error) when (error.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                throw new StoreException($"A job with id '{job.Id}' already exists.", error);
            }
        });
    }

    /// <inheritdoc/>
    public Task<JobRecord?> GetJobAsync(string jobId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        return GuardAsync(async () =>
        {
            await using var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            var jobs = await ReadJobsAsync(connection, null, $"SELECT {JobColumns} FROM batchops.jobs j WHERE j.id = $1", [jobId], cancellationToken).ConfigureAwait(false);
            return jobs.SingleOrDefault();
        });
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<JobRecord>> FindJobsAsync(JobQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        return GuardAsync(async () =>
        {
            var (where, args, byLiveness) = JobFilter(query);
            var sql = $"SELECT {JobColumns} FROM batchops.jobs j{where} ORDER BY j.created_at DESC, j.seq DESC";
            if (!byLiveness && (query.Skip is not null || query.Newest is not null))
            {
                sql += $" OFFSET {query.Skip ?? 0}" + (query.Newest is { } newest ? $" LIMIT {newest}" : string.Empty);
            }

            await using var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            var jobs = await ReadJobsAsync(connection, null, sql, args, cancellationToken).ConfigureAwait(false);
            if (!byLiveness)
            {
                return (IReadOnlyList<JobRecord>)jobs;
            }

            return jobs.Where(j => query.Statuses!.Contains(j.Status)).Skip(query.Skip ?? 0).Take(query.Newest ?? int.MaxValue).ToList();
        });
    }

    /// <inheritdoc/>
    public async Task<int> CountJobsAsync(JobQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var (where, args, byLiveness) = JobFilter(query);
        if (byLiveness)
        {
            return (await FindJobsAsync(query.Unpaged, cancellationToken).ConfigureAwait(false)).Count;
        }

        return await GuardAsync(async () =>
        {
            await using var command = _source.CreateCommand($"SELECT count(*) FROM batchops.jobs j{where}");
            foreach (var arg in args)
            {
                command.Parameters.Add(new() { Value = arg });
            }

            return (int)(long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// The query's filters as a WHERE clause with its positional arguments. Running, Interrupted and Queued
    /// are partly derived from liveness (an owner that is gone, a queued job no worker holds): when only some
    /// of them are asked for, the clause keeps all their stored forms and <c>ByLiveness</c> says the caller
    /// must filter (and page) what it read.
    /// </summary>
    private static (string Where, List<object> Args, bool ByLiveness) JobFilter(JobQuery query)
    {
        var where = new StringBuilder(" WHERE true");
        var args = new List<object>();
        string Next(object value)
        {
            args.Add(value);
            return "$" + args.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (query.Id is not null) where.Append(" AND j.id = ").Append(Next(query.Id));
        if (query.Name is not null) where.Append(" AND j.name ILIKE ").Append(Next(query.NameLikePattern!)).Append(@" ESCAPE '\'");
        if (query.Tag is not null) where.Append(" AND EXISTS (SELECT 1 FROM jsonb_array_elements_text(j.tags) t WHERE lower(t) = lower(").Append(Next(query.Tag)).Append("))");
        if (query.Since is { } since) where.Append(" AND j.created_at >= ").Append(Next(since.ToUniversalTime()));
        var byLiveness = false;
        if (query.Statuses is { Count: > 0 } statuses)
        {
            var live = new[] { JobStatus.Running, JobStatus.Interrupted, JobStatus.Queued };
            var stored = statuses.SelectMany(s => live.Contains(s) ? live : [s]).Distinct().Select(s => (int)s);
            where.Append(" AND j.status IN (").AppendJoin(", ", stored).Append(')');
            byLiveness = live.Any(s => statuses.Contains(s)) && !live.All(s => statuses.Contains(s));
        }
        else
        {
            where.Append(" AND j.status <> ").Append((int)JobStatus.Creating);
        }

        return (where.ToString(), args, byLiveness);
    }

    /// <inheritdoc/>
    public Task<bool> TryAcquireLeaseAsync(string jobId, JobLease lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        return GuardAsync(async () =>
        {
            await using var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var job = (await ReadJobsAsync(connection, transaction, $"SELECT {JobColumns} FROM batchops.jobs j WHERE j.id = $1 FOR UPDATE OF j", [jobId], cancellationToken).ConfigureAwait(false)).SingleOrDefault()
                ?? throw new StoreException($"There is no job '{jobId}' in {Location}.");
            if (job.Lease is { } holder && !holder.SameOwnerAs(lease) && holder.IsAlive(_time.GetUtcNow()))
            {
                return false;
            }

            // A queued job the queue handed over to its rollback (no chunks left) is taken like any other.
            if (!job.RollingBack && (job.Status is JobStatus.Queued || (job.Status == JobStatus.Running && job.Lease is null)))
            {
                throw new JobBusyException($"Job '{job.Name}' ({job.Id}) is queued for workers. Let them run it, or cancel it first (Stop-BatchJob / 'batchops cancel {job.Id}').");
            }

            await using var command = new NpgsqlCommand(
                "UPDATE batchops.jobs SET status = $1, owner_host = $2, owner_pid = $3, owner_started = $4, heartbeat_at = $5, " +
                "started_at = $5, ended_at = NULL, message = NULL, stop_request = NULL, stop_reason = NULL, queued = false, run_count = run_count + 1 WHERE id = $6", connection, transaction);
            command.Parameters.Add(new() { Value = (int)JobStatus.Running });
            AddLease(command, lease);
            command.Parameters.Add(new() { Value = _time.GetUtcNow().ToUniversalTime() });
            command.Parameters.Add(new() { Value = jobId });
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return true;
        });
    }

    /// <inheritdoc/>
    public Task<StopMode?> RenewLeaseAsync(string jobId, JobLease lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        return GuardAsync(async () =>
        {
            await using var command = _source.CreateCommand(
                "UPDATE batchops.jobs SET heartbeat_at = $5 WHERE id = $4 AND owner_host = $1 AND owner_pid = $2 AND owner_started = $3 RETURNING stop_request");
            AddLease(command, lease);
            command.Parameters.Add(new() { Value = jobId });
            command.Parameters.Add(new() { Value = _time.GetUtcNow().ToUniversalTime() });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                // Someone else took the lease (ours had expired): stop at once, they own the job now.
                return (StopMode?)StopMode.Forced;
            }

            return reader.IsDBNull(0) ? null : (StopMode)reader.GetInt32(0);
        });
    }

    /// <inheritdoc/>
    public Task ReleaseLeaseAsync(string jobId, JobLease lease, JobStatus status, string? message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        return GuardAsync(async () =>
        {
            await using var command = _source.CreateCommand(
                "UPDATE batchops.jobs SET status = $5, message = $6, ended_at = $7, owner_host = NULL, owner_pid = NULL, owner_started = NULL, " +
                "heartbeat_at = NULL, stop_request = NULL WHERE id = $4 AND owner_host = $1 AND owner_pid = $2 AND owner_started = $3");
            AddLease(command, lease);
            command.Parameters.Add(new() { Value = jobId });
            command.Parameters.Add(new() { Value = (int)status });
            command.Parameters.Add(new() { Value = Db(message), NpgsqlDbType = NpgsqlDbType.Text });
            command.Parameters.Add(new() { Value = _time.GetUtcNow().ToUniversalTime() });
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        });
    }

    /// <inheritdoc/>
    public Task<bool> RequestStopAsync(string jobId, StopMode mode, CancellationToken cancellationToken = default) =>
        GuardAsync(async () =>
        {
            await using var command = _source.CreateCommand(
                "UPDATE batchops.jobs SET stop_request = greatest(coalesce(stop_request, 0), $1), " +
                "stop_reason = coalesce(stop_reason, CASE WHEN queued THEN 'cancel' END) WHERE id = $2 RETURNING queued");
            command.Parameters.Add(new() { Value = (int)mode });
            command.Parameters.Add(new() { Value = jobId });
            var queued = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            if (queued is true)
            {
                // No worker may be there to see it: end the job now when nothing of it is claimed.
                await TryFinishAsync(jobId, cancellationToken).ConfigureAwait(false);
            }

            return queued is not null;
        });

    /// <inheritdoc/>
    public Task SetStatusAsync(string jobId, JobStatus status, string? message, CancellationToken cancellationToken = default) =>
        GuardAsync(async () =>
        {
            await using var command = _source.CreateCommand("UPDATE batchops.jobs SET status = $1, message = $2, stop_request = NULL, owner_host = NULL, owner_pid = NULL, owner_started = NULL, heartbeat_at = NULL WHERE id = $3");
            command.Parameters.Add(new() { Value = (int)status });
            command.Parameters.Add(new() { Value = Db(message), NpgsqlDbType = NpgsqlDbType.Text });
            command.Parameters.Add(new() { Value = jobId });
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        });

    /// <inheritdoc/>
    public Task EndInputAsync(string jobId, CancellationToken cancellationToken = default) =>
        GuardAsync(async () =>
        {
            await using var command = _source.CreateCommand("UPDATE batchops.jobs SET input_open = false WHERE id = $1");
            command.Parameters.Add(new() { Value = jobId });
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        });

    /// <inheritdoc/>
    public Task BeginRollbackAsync(string jobId, CancellationToken cancellationToken = default) =>
        GuardAsync(async () =>
        {
            await using var command = _source.CreateCommand("UPDATE batchops.jobs SET rolling_back = true WHERE id = $1");
            command.Parameters.Add(new() { Value = jobId });
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        });

    /// <inheritdoc/>
    public Task<bool> RemoveJobAsync(string jobId, CancellationToken cancellationToken = default) =>
        GuardAsync(async () =>
        {
            await using var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

            // The item rows in batches, a transaction each, so no lock is held long; a removal cut short leaves
            // a job that a second removal finishes.
            foreach (var table in new[] { "item_history", "item_retries", "items", "item_blocks" })
            {
                await using var batch = new NpgsqlCommand(
                    $"DELETE FROM batchops.{table} WHERE ctid = ANY (ARRAY(SELECT ctid FROM batchops.{table} WHERE job_id = $1 LIMIT {RemoveBatch}))", connection);
                batch.Parameters.Add(new() { Value = jobId });
                while (await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0)
                {
                }
            }

            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, transaction, [jobId], cancellationToken,
                "DELETE FROM batchops.job_chunks WHERE job_id = $1", "DELETE FROM batchops.waiting_chunks WHERE job_id = $1",
                "DELETE FROM batchops.job_rates WHERE job_id = $1", "DELETE FROM batchops.job_counts WHERE job_id = $1", "DELETE FROM batchops.job_stages WHERE job_id = $1",
                "DELETE FROM batchops.job_notices WHERE job_id = $1").ConfigureAwait(false);
            await using var remove = new NpgsqlCommand("DELETE FROM batchops.jobs WHERE id = $1", connection, transaction);
            remove.Parameters.Add(new() { Value = jobId });
            var removed = await remove.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return removed;
        });

    /// <summary>Rows deleted per transaction when a job is removed.</summary>
    private const int RemoveBatch = 5_000;

    /// <inheritdoc/>
    public Task<IReadOnlyList<StageTally>> GetStageTalliesAsync(JobRecord job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.Stages is null)
        {
            return Task.FromResult<IReadOnlyList<StageTally>>([]);
        }

        return GuardAsync<IReadOnlyList<StageTally>>(async () =>
        {
            // Counts kept by the triggers and times kept by checkpoints (schema 10): a few rows whatever the stages hold.
            await using var command = _source.CreateCommand(
                "SELECT s.stage, s.started_at, s.ended_at, c.status, c.n FROM batchops.job_stages s " +
                "LEFT JOIN batchops.job_counts c ON c.job_id = s.job_id AND c.stage = s.stage WHERE s.job_id = $1 ORDER BY s.stage");
            command.Parameters.Add(new() { Value = job.Id });
            var tallies = new SortedDictionary<int, StageTally>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var stage = reader.GetInt32(0);
                var tally = tallies.GetValueOrDefault(stage) ?? new StageTally(
                    stage, new ItemCounts(), reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1), reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2));
                tallies[stage] = reader.IsDBNull(3) ? tally : tally with { Counts = tally.Counts.With((ItemStatus)reader.GetInt16(3), reader.GetInt64(4)) };
            }

            return [.. tallies.Values];
        });
    }

    /// <inheritdoc/>
    public async Task<StoreStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default) =>
        StoreStatisticsBuilder.Build(await FindJobsAsync(new JobQuery(), cancellationToken).ConfigureAwait(false)) with
        {
            StoreBytes = await GetStoreBytesAsync(cancellationToken).ConfigureAwait(false),
        };

    private async Task<List<JobRecord>> ReadJobsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, IReadOnlyList<object> args, CancellationToken cancellationToken)
    {
        var jobs = new List<JobRecord>();
        await using (var command = new NpgsqlCommand(sql, connection, transaction))
        {
            foreach (var arg in args)
            {
                command.Parameters.Add(new() { Value = arg });
            }

            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                jobs.Add(ReadJob(reader));
            }
        }

        if (jobs.Count == 0)
        {
            return jobs;
        }

        var counts = await ReadCountsAsync(connection, transaction, jobs, cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        for (var i = 0; i < jobs.Count; i++)
        {
            var job = jobs[i] with { Counts = counts.GetValueOrDefault(jobs[i].Id) ?? new ItemCounts() };
            if (job.Status == JobStatus.Running && !job.Queued && (job.Lease is null || !job.Lease.IsAlive(now)))
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

    /// <summary>The jobs' counts, kept per status by the store's triggers, so no item is read.</summary>
    private static async Task<Dictionary<string, ItemCounts>> ReadCountsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, List<JobRecord> jobs, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT job_id, status, n FROM batchops.job_counts", connection, transaction);
        if (jobs.Count <= 500)
        {
            command.CommandText += " WHERE job_id = ANY($1)";
            command.Parameters.Add(new() { Value = jobs.Select(j => j.Id).ToArray() });
        }

        var counts = new Dictionary<string, ItemCounts>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var id = reader.GetString(0);
            counts[id] = (counts.GetValueOrDefault(id) ?? new ItemCounts()).With((ItemStatus)reader.GetInt16(1), reader.GetInt64(2));
        }

        return counts;
    }

    private JobRecord ReadJob(NpgsqlDataReader r)
    {
        var queued = r.GetBoolean(24);
        var status = (JobStatus)r.GetInt32(4);
        var worked = !r.IsDBNull(25) && r.GetBoolean(25);
        return new JobRecord
        {
            Id = r.GetString(0),
            Name = r.GetString(1),
            Description = r.IsDBNull(2) ? null : r.GetString(2),
            Tags = JsonSerializer.Deserialize<string[]>(r.GetString(3), StoreJson.Options) ?? [],

            // A queued job that no worker holds now waits for one, whatever it did before.
            Status = queued && status == JobStatus.Running && !worked ? JobStatus.Queued : status,
            Settings = JsonSerializer.Deserialize<JobSettings>(r.GetString(5), StoreJson.Options) ?? new JobSettings(),
            OperationKind = r.GetString(6),
            Operation = r.GetString(7),
            InputFormat = r.GetString(8),
            OutputFormat = r.GetString(9),
            CreatedAt = Time(r, 10)!.Value,
            StartedAt = Time(r, 11),
            EndedAt = Time(r, 12),
            Message = r.IsDBNull(13) ? null : r.GetString(13),
            RunCount = r.GetInt32(14),
            Lease = r.IsDBNull(15) ? null : new JobLease(r.GetString(15), r.GetInt32(16), FromMs(r.GetInt64(17)), Time(r, 18) ?? DateTimeOffset.MinValue),
            StopRequest = r.IsDBNull(19) ? null : (StopMode)r.GetInt32(19),
            ItemsFile = r.IsDBNull(20) ? null : JsonSerializer.Deserialize<ItemsFileInfo>(r.GetString(20), StoreJson.Options),
            Stages = r.IsDBNull(21) ? null : JsonSerializer.Deserialize<JobStage[]>(r.GetString(21), StoreJson.Options),
            Undo = r.IsDBNull(22) ? null : JsonSerializer.Deserialize<UndoDefinition>(r.GetString(22), StoreJson.Options),
            RollingBack = r.GetBoolean(23),
            Queued = queued,
            InputIncomplete = r.GetBoolean(26),
            Notify = r.IsDBNull(27) ? null : JsonSerializer.Deserialize<Engine.Notifications.NotificationTarget[]>(r.GetString(27), StoreJson.Options),
        };
    }

    private static void AddLease(NpgsqlCommand command, JobLease lease)
    {
        command.Parameters.Add(new() { Value = lease.Host });
        command.Parameters.Add(new() { Value = lease.ProcessId });
        command.Parameters.Add(new() { Value = ToMs(lease.ProcessStartedAt) });
    }
}
