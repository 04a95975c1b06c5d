using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Engine.Workers;
using Npgsql;
using NpgsqlTypes;

namespace BatchOps.Postgres;

/// <summary>
/// The queue: a queued job's work is its rows in <c>job_chunks</c> (and, for stages waiting on others, in
/// <c>waiting_chunks</c> until they open). Workers claim one with
/// <c>FOR UPDATE SKIP LOCKED</c> (so they never wait on each other), keep it with a lease their heartbeat
/// renews, and record its outcomes in the transaction that deletes it, checking the claim's token: a
/// worker that lost its claim (paused past its lease while another took the chunk) records nothing.
/// </summary>
public sealed partial class PostgresJobStore : IWorkQueue
{
    private static readonly short[] UnfinishedStatuses = [(short)ItemStatus.Pending, (short)ItemStatus.Running, (short)ItemStatus.Skipped, (short)ItemStatus.Cancelled];

    /// <summary>The unfinished statuses as SQL, written into statements so their plans know them.</summary>
    private static readonly string UnfinishedList = string.Join(", ", UnfinishedStatuses);

    /// <inheritdoc/>
    public Task EnqueueAsync(string jobId, CancellationToken cancellationToken = default) =>
        GuardAsync(async () =>
        {
            await using var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var job = (await ReadJobsAsync(connection, transaction, $"SELECT {JobColumns} FROM batchops.jobs j WHERE j.id = $1 FOR UPDATE OF j", [jobId], cancellationToken).ConfigureAwait(false)).SingleOrDefault()
                ?? throw new StoreException($"There is no job '{jobId}' in {Location}.");
            CheckQueueable(job);
            await ExecuteAsync(connection, transaction, [jobId], cancellationToken,
                "DELETE FROM batchops.job_chunks WHERE job_id = $1",
                "DELETE FROM batchops.waiting_chunks WHERE job_id = $1",
                "DELETE FROM batchops.job_rates WHERE job_id = $1").ConfigureAwait(false);
            if (job.Stages is null)
            {
                await AddChunksAsync(connection, transaction, job, null, job.Settings, ready: true, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                // Every stage's chunks at once; a stage whose dependencies have not all completed yet waits
                // (its chunks in waiting_chunks).
                foreach (var stage in StageOrder.Sort(job.Stages))
                {
                    var ready = true;
                    foreach (var dependency in stage.DependsOn)
                    {
                        ready &= await NotSucceededAsync(connection, transaction, job.Id, job.Stage(dependency)!, cancellationToken).ConfigureAwait(false) == 0;
                    }

                    await AddChunksAsync(connection, transaction, job, stage, stage.Settings.Over(job.Settings), ready, cancellationToken).ConfigureAwait(false);
                }
            }

            await ExecuteAsync(connection, transaction, [jobId, (int)JobStatus.Queued], cancellationToken,
                "UPDATE batchops.jobs SET status = $2, queued = true, run_failures = 0, stop_request = NULL, stop_reason = NULL, message = NULL, started_at = NULL, ended_at = NULL, " +
                "owner_host = NULL, owner_pid = NULL, owner_started = NULL, heartbeat_at = NULL WHERE id = $1").ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        });

    /// <summary>
    /// The unfinished items of a job's index range $1, $2 to $3 (rows and Pending blocks) as one column
    /// <c>idx</c>: what queueing cuts into chunks and what a skipped stage records.
    /// </summary>
    private static readonly string UnfinishedIndexes =
        $"SELECT idx FROM batchops.items WHERE job_id = $1 AND idx BETWEEN $2 AND $3 AND status IN ({UnfinishedList}) " +
        "UNION ALL SELECT generate_series(greatest(first_idx, $2), least(last_idx, $3)) FROM batchops.item_blocks " +
        "WHERE job_id = $1 AND status = 0 AND first_idx <= $3 AND last_idx >= $2";

    /// <summary>
    /// Cuts the unfinished items of the job (or of one stage) into chunks of the settings' chunk size (a new
    /// job's chunks are exactly its blocks), each marked with the stage and the operation kind workers run:
    /// claimable chunks when <paramref name="ready"/>, else waiting ones.
    /// </summary>
    private static async Task AddChunksAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, JobRecord job, JobStage? stage, JobSettings settings, bool ready, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            $"INSERT INTO batchops.{(ready ? "job_chunks" : "waiting_chunks")} (job_id, first_idx, last_idx, stage, kind) " +
            "SELECT $1, min(idx), max(idx), $5, $6 FROM (SELECT idx, (row_number() OVER (ORDER BY idx) - 1) / $4 AS chunk FROM (" +
            UnfinishedIndexes + ") AS u) AS n GROUP BY chunk ORDER BY 2", connection, transaction);
        command.Parameters.Add(new() { Value = job.Id });
        command.Parameters.Add(new() { Value = stage?.FirstIndex ?? 0L });
        command.Parameters.Add(new() { Value = stage?.LastIndex ?? long.MaxValue });
        command.Parameters.Add(new() { Value = (long)settings.ToOptions().ChunkSize });
        command.Parameters.Add(new() { Value = Db(stage?.Name), NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = stage?.OperationKind ?? job.OperationKind });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>How many of a stage's items have not Succeeded: none means the stage completed.</summary>
    private static async Task<long> NotSucceededAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string jobId, JobStage stage, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT (SELECT count(*) FROM batchops.items WHERE job_id = $1 AND idx BETWEEN $2 AND $3 AND status <> 2) + " +
            "(SELECT coalesce(sum(least(last_idx, $3) - greatest(first_idx, $2) + 1), 0) FROM batchops.item_blocks " +
            "WHERE job_id = $1 AND status <> 2 AND first_idx <= $3 AND last_idx >= $2)::bigint", connection, transaction);
        command.Parameters.Add(new() { Value = jobId });
        command.Parameters.Add(new() { Value = stage.FirstIndex });
        command.Parameters.Add(new() { Value = stage.LastIndex });
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void CheckQueueable(JobRecord job)
    {
        var what = $"Job '{job.Name}' ({job.Id})";
        if (job.Status == JobStatus.Running && !job.Queued)
        {
            throw new JobBusyException($"{what} is running in process {job.Lease?.ProcessId} on {job.Lease?.Host}; stop it before queueing it.");
        }

        if (job.Queued && job.Status == JobStatus.Running)
        {
            throw new JobBusyException($"{what} is already being run by workers.");
        }

        if (job.RollingBack)
        {
            throw new StoreException($"{what} is rolling back: resume it ('batchops resume {job.Id}', Invoke-BatchJob -Id) to finish compensating, instead of queueing it.");
        }
    }

    /// <summary>
    /// Marks the picked chunk (CTE <c>next</c>) claimed with a new token and lease (CTE <c>claimed</c>), and
    /// the job Running on its first claim. Parameters: $1 Queued, $2 Running, $3 worker, $4 lease.
    /// </summary>
    private const string ClaimPicked =
        "claimed AS (" +
        "  UPDATE batchops.job_chunks c SET claimed = true, worker = $3, token = nextval('batchops.claim_tokens'), " +
        "    lease_until = clock_timestamp() + $4, claims = c.claims + 1 " +
        "  FROM next WHERE c.job_id = next.job_id AND c.first_idx = next.first_idx " +
        "  RETURNING c.job_id, c.first_idx, c.last_idx, c.token, c.claims, c.stage), " +
        "started AS (" +
        "  UPDATE batchops.jobs j SET status = $2, started_at = coalesce(j.started_at, clock_timestamp()), run_count = j.run_count + 1 " +
        "  FROM claimed WHERE j.id = claimed.job_id AND j.status = $1) ";

    /// <summary>The claim's columns, first in every claim's result.</summary>
    private const string ClaimColumns = "c.job_id, c.first_idx, c.last_idx, c.token, c.claims, c.stage";

    /// <inheritdoc/>
    public async Task<ChunkClaim?> ClaimAsync(WorkerIdentity worker, IReadOnlyCollection<string> kinds, IReadOnlyCollection<string> exclude, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentNullException.ThrowIfNull(kinds);
        ArgumentNullException.ThrowIfNull(exclude);

        // One statement, one round trip: pick the oldest job's next chunk, claim it, mark the job Running.
        var claimed = await ClaimAsync(
            "WITH next AS (" +
            "  SELECT c.job_id, c.first_idx FROM batchops.job_chunks c JOIN batchops.jobs j ON j.id = c.job_id " +
            "  WHERE j.queued AND j.status IN ($1, $2) AND j.stop_request IS NULL AND c.kind = ANY($5) AND NOT (c.job_id = ANY($6)) " +
            "    AND (NOT c.claimed OR c.lease_until < clock_timestamp()) " +
            "  ORDER BY j.created_at, j.seq, c.first_idx LIMIT 1 FOR UPDATE OF c SKIP LOCKED), " + ClaimPicked +
            $"SELECT {ClaimColumns} FROM claimed c",
            worker,
            lease,
            [kinds.ToArray(), exclude.ToArray()],
            withItems: false,
            cancellationToken).ConfigureAwait(false);
        return claimed?.Claim;
    }

    /// <inheritdoc/>
    public Task<ClaimedChunk?> ClaimNextAsync(WorkerIdentity worker, string jobId, IReadOnlyCollection<string>? kinds, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentException.ThrowIfNullOrEmpty(jobId);

        // The claim and its unfinished items in one statement: rows, and the items of Pending blocks (found
        // from the last one starting at or before the chunk, through the partial index of Pending blocks).
        return ClaimAsync(
            "WITH next AS (" +
            "  SELECT c.job_id, c.first_idx FROM batchops.job_chunks c JOIN batchops.jobs j ON j.id = c.job_id " +
            "  WHERE c.job_id = $5 AND j.queued AND j.status IN ($1, $2) AND j.stop_request IS NULL " + (kinds is null ? string.Empty : "AND c.kind = ANY($6) ") +
            "    AND (NOT c.claimed OR c.lease_until < clock_timestamp()) " +
            "  ORDER BY c.first_idx LIMIT 1 FOR UPDATE OF c SKIP LOCKED), " + ClaimPicked +
            $"SELECT {ClaimColumns}, i.idx, i.key, i.input FROM claimed c LEFT JOIN LATERAL (" +
            $"  SELECT r.idx, r.key, r.input FROM batchops.items r WHERE r.job_id = c.job_id AND r.idx BETWEEN c.first_idx AND c.last_idx AND r.status IN ({UnfinishedList}) " +
            "  UNION ALL SELECT b.first_idx + u.n - 1, u.key, u.input FROM batchops.item_blocks b CROSS JOIN LATERAL unnest(b.keys, b.inputs) WITH ORDINALITY AS u(key, input, n) " +
            "  WHERE b.job_id = c.job_id AND b.status = 0 AND b.first_idx <= c.last_idx " +
            "    AND b.first_idx >= coalesce((SELECT max(p.first_idx) FROM batchops.item_blocks p WHERE p.job_id = c.job_id AND p.status = 0 AND p.first_idx <= c.first_idx), c.first_idx) " +
            "    AND b.first_idx + u.n - 1 BETWEEN c.first_idx AND c.last_idx) AS i ON true ORDER BY i.idx",
            worker,
            lease,
            kinds is null ? [jobId] : [jobId, kinds.ToArray()],
            withItems: true,
            cancellationToken);
    }

    private Task<ClaimedChunk?> ClaimAsync(string sql, WorkerIdentity worker, TimeSpan lease, object[] filters, bool withItems, CancellationToken cancellationToken) =>
        GuardAsync(async () =>
        {
            await using var command = _source.CreateCommand(sql);
            command.Parameters.Add(new() { Value = (int)JobStatus.Queued });
            command.Parameters.Add(new() { Value = (int)JobStatus.Running });
            command.Parameters.Add(new() { Value = worker.Name });
            command.Parameters.Add(new() { Value = lease, NpgsqlDbType = NpgsqlDbType.Interval });
            foreach (var filter in filters)
            {
                command.Parameters.Add(new() { Value = filter });
            }

            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            ChunkClaim? claim = null;
            var items = new List<StoredItem>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                claim ??= new ChunkClaim(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt32(4), reader.IsDBNull(5) ? null : reader.GetString(5));
                if (withItems && !reader.IsDBNull(6))
                {
                    items.Add(new StoredItem { Index = reader.GetInt64(6), Key = reader.IsDBNull(7) ? null : reader.GetString(7), Input = reader.GetString(8) });
                }
            }

            return claim is null ? null : new ClaimedChunk(claim, items);
        });

    /// <inheritdoc/>
    public Task<ClaimState> RenewAsync(ChunkClaim claim, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(claim);
        return GuardAsync(async () =>
        {
            await using var command = _source.CreateCommand(
                "WITH renewed AS (UPDATE batchops.job_chunks SET lease_until = clock_timestamp() + $4 WHERE job_id = $1 AND first_idx = $2 AND token = $3 RETURNING job_id) " +
                "SELECT EXISTS (SELECT 1 FROM renewed), (SELECT stop_request FROM batchops.jobs WHERE id = $1)");
            command.Parameters.Add(new() { Value = claim.JobId });
            command.Parameters.Add(new() { Value = claim.FirstIndex });
            command.Parameters.Add(new() { Value = claim.Token });
            command.Parameters.Add(new() { Value = lease, NpgsqlDbType = NpgsqlDbType.Interval });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            return new ClaimState(reader.GetBoolean(0), reader.IsDBNull(1) ? null : (StopMode)reader.GetInt32(1));
        });
    }

    /// <summary>SQLSTATE of <c>batchops.end_claim</c> when the claim passed to another worker.</summary>
    private const string ClaimLost = "BOCLM";

    /// <inheritdoc/>
    public Task<bool> CompleteAsync(ChunkClaim claim, IReadOnlyList<ItemOutcome> outcomes, ChunkPolicy policy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(claim);
        ArgumentNullException.ThrowIfNull(outcomes);
        return GuardAsync(async () =>
        {
            // One round trip, one transaction: the claim ends (or the batch fails when it is lost), the
            // outcomes are written, the error policy is counted. Locks taken here (the job's counts) are held
            // for the batch's time on the server only, not across round trips, so workers barely wait.
            await using var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            var failures = outcomes.Count(o => o.Status == ItemStatus.Failed);
            try
            {
                await ExecuteCheckpointAsync(connection, (batch, asBlock) =>
                {
                    var end = new NpgsqlBatchCommand("SELECT batchops.end_claim($1, $2, $3)");
                    end.Parameters.Add(new() { Value = claim.JobId });
                    end.Parameters.Add(new() { Value = claim.FirstIndex });
                    end.Parameters.Add(new() { Value = claim.Token });
                    batch.BatchCommands.Add(end);
                    if (outcomes.Count > 0)
                    {
                        AddCheckpoint(batch, claim.JobId, outcomes, asBlock);
                    }

                    if (failures > 0)
                    {
                        batch.BatchCommands.Add(CountFailures(claim.JobId, failures, policy));
                    }
                }, cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (PostgresException error) when (error.SqlState == ClaimLost)
            {
                // Another worker holds (or has finished) this chunk now: ours are late results.
                return false;
            }
        });
    }

    /// <summary>The error policy held across workers: this run's failures counted in the job's row, and the stop it calls for.</summary>
    private static NpgsqlBatchCommand CountFailures(string jobId, int failures, ChunkPolicy policy)
    {
        var count = new NpgsqlBatchCommand(
            "UPDATE batchops.jobs SET run_failures = run_failures + $2, " +
            "stop_request = CASE WHEN stop_request IS NULL AND ($3 OR run_failures + $2 >= $4) THEN $5 ELSE stop_request END, " +
            "stop_reason = CASE WHEN stop_reason IS NULL AND ($3 OR run_failures + $2 >= $4) THEN " +
            "  CASE WHEN $3 THEN 'Stopped after the first failed item (StopOnError); items not started were skipped.' " +
            "  ELSE 'Stopped after ' || $4 || ' failures (MaxErrors ' || $4 || '); items not started were skipped.' END ELSE stop_reason END " +
            "WHERE id = $1");
        count.Parameters.Add(new() { Value = jobId });
        count.Parameters.Add(new() { Value = failures });
        count.Parameters.Add(new() { Value = policy.StopOnError });
        count.Parameters.Add(new() { Value = policy.MaxErrors ?? int.MaxValue });
        count.Parameters.Add(new() { Value = (int)StopMode.Graceful });
        return count;
    }

    /// <inheritdoc/>
    public Task ReleaseAsync(ChunkClaim claim, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(claim);
        return GuardAsync(async () =>
        {
            await using var command = _source.CreateCommand(
                "UPDATE batchops.job_chunks SET claimed = false, worker = NULL, token = NULL, lease_until = NULL WHERE job_id = $1 AND first_idx = $2 AND token = $3");
            command.Parameters.Add(new() { Value = claim.JobId });
            command.Parameters.Add(new() { Value = claim.FirstIndex });
            command.Parameters.Add(new() { Value = claim.Token });
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        });
    }

    /// <inheritdoc/>
    public Task<JobRecord?> TryFinishAsync(string jobId, CancellationToken cancellationToken = default) =>
        GuardAsync(async () =>
        {
            await using var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            if (await HasWorkAsync(connection, null, jobId, cancellationToken).ConfigureAwait(false))
            {
                // The common case, every chunk but the last: a look, no lock.
                return null;
            }

            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

            // The job's row lock makes the workers that finish its last chunks at once take turns here.
            var job = (await ReadJobsAsync(connection, transaction, $"SELECT {JobColumns} FROM batchops.jobs j WHERE j.id = $1 FOR UPDATE OF j", [jobId], cancellationToken).ConfigureAwait(false)).SingleOrDefault();
            if (job is null || !job.Queued || job.Status is not (JobStatus.Queued or JobStatus.Running))
            {
                return null;
            }

            if (await HasWorkAsync(connection, transaction, jobId, cancellationToken).ConfigureAwait(false))
            {
                return null;
            }

            string? stopReason;
            await using (var reason = new NpgsqlCommand("SELECT stop_reason FROM batchops.jobs WHERE id = $1", connection, transaction))
            {
                reason.Parameters.Add(new() { Value = jobId });
                stopReason = await reason.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
            }

            var counts = job.Counts;
            var rollback = RollbackReason(job, stopReason, counts);
            if (job.RollingBack || rollback is not null)
            {
                // Not ended: handed over to a rollback, which the worker that gets here runs next as a resume
                // (JobRunner, under a lease of its own). Until it takes the lease the job still reads as the
                // queue's. Handed over once; only if no lease was taken within HandoverGrace (that worker died
                // first) does the next idle worker, finding it stalled, get it again.
                var rolling = job.RollingBack ? job.Message : $"Rolling back: {rollback}.";
                await using var handover = new NpgsqlCommand(
                    "UPDATE batchops.jobs SET message = $2, rolling_back = true, stop_request = NULL, stop_reason = NULL, heartbeat_at = clock_timestamp() " +
                    "WHERE id = $1 AND (NOT rolling_back OR heartbeat_at IS NULL OR heartbeat_at < clock_timestamp() - $3)", connection, transaction);
                handover.Parameters.Add(new() { Value = jobId });
                handover.Parameters.Add(new() { Value = Db(rolling), NpgsqlDbType = NpgsqlDbType.Text });
                handover.Parameters.Add(new() { Value = HandoverGrace, NpgsqlDbType = NpgsqlDbType.Interval });
                if (await handover.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
                {
                    return null;
                }

                await ExecuteAsync(connection, transaction, [jobId], cancellationToken,
                    "DELETE FROM batchops.job_chunks WHERE job_id = $1",
                    "DELETE FROM batchops.waiting_chunks WHERE job_id = $1").ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return job with { Message = rolling, RollingBack = true, StopRequest = null };
            }

            var (status, message) = stopReason switch
            {
                null => (counts.FinalStatus(), counts.Unfinished == 0 ? null
                    : job.Stages is not null && counts.Failed > 0 ? $"{counts.Unfinished} item(s) have not run: a stage they depend on did not complete. Retry its failed items, then queue the job again."
                    : $"{counts.Unfinished} item(s) have not run; queue the job again to run them."),
                "cancel" => (JobStatus.Cancelled, (string?)$"Cancelled; {counts.Unfinished} item(s) have not run. Queue it again (or resume it) to run them."),
                _ => (JobStatus.Failed, stopReason),
            };
            await ExecuteAsync(connection, transaction, [jobId, (int)status, new NpgsqlParameter { Value = Db(message), NpgsqlDbType = NpgsqlDbType.Text }], cancellationToken,
                "DELETE FROM batchops.job_chunks WHERE job_id = $1",
                "DELETE FROM batchops.waiting_chunks WHERE job_id = $1",
                "UPDATE batchops.jobs SET status = $2, message = $3, ended_at = clock_timestamp(), stop_request = NULL WHERE id = $1").ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return job with { Status = status, Message = message, StopRequest = null, EndedAt = _time.GetUtcNow() };
        });

    /// <summary>How long a queued job handed over to its rollback waits for its worker to take the lease before another may.</summary>
    private static readonly TimeSpan HandoverGrace = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Why a queued job that just ended must be rolled back (<see cref="RollbackRule"/>), from the stop its
    /// workers recorded: "cancel" for Stop-BatchJob or `batchops cancel`, any other reason the error policy's.
    /// </summary>
    private static string? RollbackReason(JobRecord job, string? stopReason, ItemCounts counts) =>
        RollbackRule.Reason(
            job.Settings.OnFailure,
            job.CanUndo,
            stopReason switch { null => StopReason.None, "cancel" => StopReason.Cancelled, _ => StopReason.ErrorPolicy },
            counts);

    /// <summary>
    /// Whether the job still has work: a chunk to claim or a stage waiting to open (unless it was asked to
    /// stop), or a chunk a live worker holds.
    /// </summary>
    private static async Task<bool> HasWorkAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string jobId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT EXISTS (SELECT 1 FROM batchops.job_chunks c JOIN batchops.jobs j ON j.id = c.job_id " +
            "WHERE c.job_id = $1 AND (j.stop_request IS NULL OR (c.claimed AND c.lease_until > clock_timestamp()))) " +
            "OR EXISTS (SELECT 1 FROM batchops.waiting_chunks w JOIN batchops.jobs j ON j.id = w.job_id WHERE w.job_id = $1 AND j.stop_request IS NULL)", connection, transaction);
        command.Parameters.Add(new() { Value = jobId });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<StageChange>> AdvanceStagesAsync(string jobId, CancellationToken cancellationToken = default) =>
        GuardAsync<IReadOnlyList<StageChange>>(async () =>
        {
            await using var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

            // The job's row lock: workers moving the same job on take turns, and see each other's changes.
            var job = (await ReadJobsAsync(connection, transaction, $"SELECT {JobColumns} FROM batchops.jobs j WHERE j.id = $1 FOR UPDATE OF j", [jobId], cancellationToken).ConfigureAwait(false)).SingleOrDefault();
            if (job is not { Stages: not null, Queued: true, StopRequest: null } || job.Status is not (JobStatus.Queued or JobStatus.Running))
            {
                return [];
            }

            // Each stage that still has chunks, and whether they are claimable (a stage's chunks all are, or all wait).
            var waiting = new Dictionary<string, bool>(StringComparer.OrdinalIgnoreCase);
            await using (var chunks = new NpgsqlCommand(
                "SELECT DISTINCT stage, true FROM batchops.job_chunks WHERE job_id = $1 AND stage IS NOT NULL " +
                "UNION ALL SELECT DISTINCT stage, false FROM batchops.waiting_chunks WHERE job_id = $1", connection, transaction))
            {
                chunks.Parameters.Add(new() { Value = jobId });
                await using var reader = await chunks.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    waiting[reader.GetString(0)] = reader.GetBoolean(1);
                }
            }

            var changes = new List<StageChange>();
            foreach (var stage in StageOrder.Sort(job.Stages))
            {
                if (!waiting.TryGetValue(stage.Name, out var ready) || ready || stage.DependsOn.Any(waiting.ContainsKey))
                {
                    // Nothing waits, it is open already, or a dependency still has chunks to run.
                    continue;
                }

                var blocked = new List<string>();
                foreach (var dependency in stage.DependsOn)
                {
                    if (await NotSucceededAsync(connection, transaction, jobId, job.Stage(dependency)!, cancellationToken).ConfigureAwait(false) > 0)
                    {
                        blocked.Add(dependency);
                    }
                }

                changes.Add(blocked.Count == 0
                    ? await OpenStageAsync(connection, transaction, job, stage, cancellationToken).ConfigureAwait(false)
                    : await SkipStageAsync(connection, transaction, job, stage, JobRunner.DependencyError(stage, blocked), cancellationToken).ConfigureAwait(false));
                if (changes[^1].Opened)
                {
                    waiting[stage.Name] = true;
                }
                else
                {
                    waiting.Remove(stage.Name);
                }
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return changes;
        });

    private static async Task<StageChange> OpenStageAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, JobRecord job, JobStage stage, CancellationToken cancellationToken)
    {
        await using var open = new NpgsqlCommand(
            "WITH moved AS (DELETE FROM batchops.waiting_chunks WHERE job_id = $1 AND stage = $2 RETURNING job_id, first_idx, last_idx, stage, kind) " +
            "INSERT INTO batchops.job_chunks (job_id, first_idx, last_idx, stage, kind) SELECT job_id, first_idx, last_idx, stage, kind FROM moved", connection, transaction);
        open.Parameters.Add(new() { Value = job.Id });
        open.Parameters.Add(new() { Value = stage.Name });
        var chunks = await open.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        var after = stage.DependsOn.Count == 0 ? string.Empty : $" ({string.Join(", ", stage.DependsOn)} completed)";
        return new StageChange(stage.Name, true, chunks, $"stage '{stage.Name}' opened{after}: {chunks} chunk(s) of operation {stage.OperationKind} to claim");
    }

    /// <summary>Records a stage's unfinished items Skipped with <paramref name="error"/> and drops its chunks, in the caller's transaction.</summary>
    private static async Task<StageChange> SkipStageAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, JobRecord job, JobStage stage, ItemError error, CancellationToken cancellationToken)
    {
        var indexes = new List<long>();
        await using (var unfinished = new NpgsqlCommand(UnfinishedIndexes, connection, transaction))
        {
            unfinished.Parameters.Add(new() { Value = job.Id });
            unfinished.Parameters.Add(new() { Value = stage.FirstIndex });
            unfinished.Parameters.Add(new() { Value = stage.LastIndex });
            await using var reader = await unfinished.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                indexes.Add(reader.GetInt64(0));
            }
        }

        await using var batch = new NpgsqlBatch(connection, transaction);
        if (indexes.Count > 0)
        {
            var now = DateTimeOffset.UtcNow;
            AddCheckpoint(batch, job.Id, [.. indexes.Select(i => new ItemOutcome(i, ItemStatus.Skipped, 0, null, error, null, now, TimeSpan.Zero))], asBlock: false);
        }

        var drop = new NpgsqlBatchCommand("DELETE FROM batchops.waiting_chunks WHERE job_id = $1 AND stage = $2");
        drop.Parameters.Add(new() { Value = job.Id });
        drop.Parameters.Add(new() { Value = stage.Name });
        batch.BatchCommands.Add(drop);
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return new StageChange(stage.Name, false, indexes.Count, $"{error.Message}; its {indexes.Count} unfinished item(s) are recorded Skipped");
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<string>> StalledJobsAsync(CancellationToken cancellationToken = default) =>
        GuardAsync<IReadOnlyList<string>>(async () =>
        {
            // No chunk that a worker holds, and none it could claim (the job not asked to stop): only waiting
            // stages, or nothing at all.
            await using var command = _source.CreateCommand(
                "SELECT j.id FROM batchops.jobs j WHERE j.queued AND j.status IN ($1, $2) AND NOT EXISTS (" +
                "  SELECT 1 FROM batchops.job_chunks c WHERE c.job_id = j.id " +
                "  AND ((c.claimed AND c.lease_until > clock_timestamp()) OR j.stop_request IS NULL)) " +
                "ORDER BY j.created_at, j.seq LIMIT 100");
            command.Parameters.Add(new() { Value = (int)JobStatus.Running });
            command.Parameters.Add(new() { Value = (int)JobStatus.Queued });
            var stalled = new List<string>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                stalled.Add(reader.GetString(0));
            }

            return stalled;
        });

    /// <inheritdoc/>
    public Task<TimeSpan> TakeRateSlotsAsync(string jobId, TimeSpan interval, int count, CancellationToken cancellationToken = default) =>
        GuardAsync(async () =>
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);

            // Virtual scheduling on the database's clock, as RateGate does in one process: the slots follow
            // the previous ones one interval apart, never starting further back than the burst window (50 ms).
            await using var command = _source.CreateCommand(
                "INSERT INTO batchops.job_rates AS r (job_id, next_at) VALUES ($1, clock_timestamp() - $3 + $2) " +
                "ON CONFLICT (job_id) DO UPDATE SET next_at = greatest(r.next_at, clock_timestamp() - $3) + $2 " +
                "RETURNING extract(epoch FROM (next_at - $2 - clock_timestamp()))::double precision");
            command.Parameters.Add(new() { Value = jobId });
            command.Parameters.Add(new() { Value = interval * count, NpgsqlDbType = NpgsqlDbType.Interval });
            command.Parameters.Add(new() { Value = TimeSpan.FromMilliseconds(50), NpgsqlDbType = NpgsqlDbType.Interval });
            return TimeSpan.FromSeconds((double)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!);
        });
}
