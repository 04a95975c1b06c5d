using BatchOps.Engine.Jobs;
using BatchOps.Engine.Workers;
using NpgsqlTypes;

namespace BatchOps.Postgres;

public sealed partial class PostgresJobStore
{
    /// <summary>How long a worker that went missing stays in the list.</summary>
    private static readonly TimeSpan ForgetMissingAfter = TimeSpan.FromDays(1);

    /// <inheritdoc/>
    public Task<bool> ReportWorkerAsync(WorkerPresence presence, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(presence);
        return GuardAsync(async () =>
        {
            await using var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var batch = new Npgsql.NpgsqlBatch(connection);
            var upsert = new Npgsql.NpgsqlBatchCommand(
                "INSERT INTO batchops.workers AS w (id, name, host, pid, kinds, concurrency, lease_ms, started_at, seen_at, chunks) " +
                "VALUES ($1, $2, $3, $4, $5, $6, $7, clock_timestamp(), clock_timestamp(), $8) " +
                "ON CONFLICT (id) DO UPDATE SET seen_at = clock_timestamp(), chunks = excluded.chunks " +
                "RETURNING stop_asked_at IS NOT NULL");
            var p = upsert.Parameters;
            p.Add(new() { Value = presence.Id });
            p.Add(new() { Value = presence.Identity.Name });
            p.Add(new() { Value = presence.Identity.Host });
            p.Add(new() { Value = presence.Identity.ProcessId });
            p.Add(new() { Value = presence.Kinds.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            p.Add(new() { Value = presence.Concurrency });
            p.Add(new() { Value = (long)presence.Lease.TotalMilliseconds });
            p.Add(new() { Value = presence.ChunksRecorded });
            batch.BatchCommands.Add(upsert);
            var forget = new Npgsql.NpgsqlBatchCommand("DELETE FROM batchops.workers WHERE seen_at < clock_timestamp() - $1");
            forget.Parameters.Add(new() { Value = ForgetMissingAfter, NpgsqlDbType = NpgsqlDbType.Interval });
            batch.BatchCommands.Add(forget);
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) && reader.GetBoolean(0);
        });
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<string>> AskWorkersToStopAsync(IReadOnlyCollection<string> workerIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workerIds);
        return GuardAsync<IReadOnlyList<string>>(async () =>
        {
            await using var command = _source.CreateCommand(
                "UPDATE batchops.workers SET stop_asked_at = coalesce(stop_asked_at, clock_timestamp()) WHERE id = ANY($1) RETURNING id");
            command.Parameters.Add(new() { Value = workerIds.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var asked = new List<string>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                asked.Add(reader.GetString(0));
            }

            return asked;
        });
    }

    /// <inheritdoc/>
    public Task RemoveWorkerAsync(string workerId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workerId);
        return GuardAsync(async () =>
        {
            await using var command = _source.CreateCommand("DELETE FROM batchops.workers WHERE id = $1");
            command.Parameters.Add(new() { Value = workerId });
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        });
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<WorkerInfo>> ListWorkersAsync(CancellationToken cancellationToken = default) =>
        GuardAsync<IReadOnlyList<WorkerInfo>>(async () =>
        {
            // Held chunks by worker name, in one pass over the claimed chunks (the claims carry the name).
            await using var command = _source.CreateCommand(
                "SELECT w.id, w.name, w.host, w.pid, w.kinds, w.concurrency, w.lease_ms, w.started_at, w.seen_at, w.chunks, " +
                "  w.seen_at < clock_timestamp() - w.lease_ms * interval '1 millisecond', coalesce(h.held, 0), coalesce(h.jobs, '{}'), w.stop_asked_at " +
                "FROM batchops.workers w LEFT JOIN (" +
                "  SELECT worker, count(*)::integer AS held, array_agg(DISTINCT job_id ORDER BY job_id) AS jobs FROM batchops.job_chunks " +
                "  WHERE claimed AND lease_until > clock_timestamp() GROUP BY worker) h ON h.worker = w.name " +
                "ORDER BY w.started_at, w.id");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var workers = new List<WorkerInfo>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var held = reader.GetInt32(11);
                var stopAsked = Time(reader, 13);
                workers.Add(new WorkerInfo
                {
                    Id = reader.GetString(0),
                    Name = reader.GetString(1),
                    Host = reader.GetString(2),
                    ProcessId = reader.GetInt32(3),
                    Kinds = reader.GetFieldValue<string[]>(4),
                    Concurrency = reader.GetInt32(5),
                    Lease = TimeSpan.FromMilliseconds(reader.GetInt64(6)),
                    StartedAt = Time(reader, 7)!.Value,
                    SeenAt = Time(reader, 8)!.Value,
                    ChunksRecorded = reader.GetInt64(9),
                    State = reader.GetBoolean(10) ? WorkerState.Missing : stopAsked is not null ? WorkerState.Stopping : held > 0 ? WorkerState.Busy : WorkerState.Idle,
                    ChunksHeld = held,
                    Jobs = reader.GetFieldValue<string[]>(12),
                    StopAskedAt = stopAsked,
                });
            }

            return workers;
        });

    /// <inheritdoc/>
    public Task<IReadOnlyList<OpenWork>> ListOpenWorkAsync(string? jobId = null, CancellationToken cancellationToken = default) =>
        GuardAsync<IReadOnlyList<OpenWork>>(async () =>
        {
            // What ClaimAsync would pick from, counted: claimable chunks of queued or running jobs not asked to stop.
            await using var command = _source.CreateCommand(
                "SELECT c.job_id, j.name, c.kind, count(*) FROM batchops.job_chunks c JOIN batchops.jobs j ON j.id = c.job_id " +
                "WHERE j.queued AND j.status IN ($1, $2) AND j.stop_request IS NULL AND ($3::text IS NULL OR c.job_id = $3) " +
                "  AND (NOT c.claimed OR c.lease_until < clock_timestamp()) " +
                "GROUP BY c.job_id, j.name, j.created_at, j.seq, c.kind ORDER BY j.created_at, j.seq, c.kind");
            command.Parameters.Add(new() { Value = (int)JobStatus.Queued });
            command.Parameters.Add(new() { Value = (int)JobStatus.Running });
            command.Parameters.Add(new() { Value = (object?)jobId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var open = new List<OpenWork>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                open.Add(new OpenWork(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3)));
            }

            return open;
        });
}
