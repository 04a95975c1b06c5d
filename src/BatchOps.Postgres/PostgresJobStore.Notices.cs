using BatchOps.Engine.Notifications;
using NpgsqlTypes;

namespace BatchOps.Postgres;

public sealed partial class PostgresJobStore
{
    /// <summary>The ended statuses as a SQL list.</summary>
    private static readonly string EndedList = string.Join(", ", Notices.EndStatuses.Select(s => (int)s));

    /// <inheritdoc/>
    public Task<NoticeRecord?> ClaimNoticeAsync(string jobId, int target, DateTimeOffset endedAt, TimeSpan lease, bool retryFailed, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        return GuardAsync<NoticeRecord?>(async () =>
        {
            // One statement: a new notice, or one whose claim ran out (or that failed, when retried), becomes
            // this sender's; two senders racing for it take the row lock in turn and the second finds it held.
            await using var command = _source.CreateCommand(
                "INSERT INTO batchops.job_notices AS n (job_id, target, ended_at, status, attempts, updated_at, lease_until) " +
                "VALUES ($1, $2, $3, 0, 0, clock_timestamp(), clock_timestamp() + $4) " +
                "ON CONFLICT (job_id, target, ended_at) DO UPDATE SET status = 0, updated_at = clock_timestamp(), lease_until = clock_timestamp() + $4 " +
                "WHERE n.status = 0 AND n.lease_until < clock_timestamp() OR n.status = 2 AND $5 " +
                "RETURNING n.attempts, n.error, n.updated_at");
            command.Parameters.Add(new() { Value = jobId });
            command.Parameters.Add(new() { Value = target });
            command.Parameters.Add(new() { Value = endedAt.ToUniversalTime() });
            command.Parameters.Add(new() { Value = lease, NpgsqlDbType = NpgsqlDbType.Interval });
            command.Parameters.Add(new() { Value = retryFailed });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                ? new NoticeRecord
                {
                    JobId = jobId, Target = target, EndedAt = endedAt, Status = NoticeStatus.Sending,
                    Attempts = reader.GetInt32(0), Error = reader.IsDBNull(1) ? null : reader.GetString(1), UpdatedAt = Time(reader, 2)!.Value,
                }
                : null;
        });
    }

    /// <inheritdoc/>
    public Task RecordNoticeAsync(string jobId, int target, DateTimeOffset endedAt, bool sent, int attempts, string? error, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        return GuardAsync(async () =>
        {
            await using var command = _source.CreateCommand(
                "INSERT INTO batchops.job_notices AS n (job_id, target, ended_at, status, attempts, error, updated_at, lease_until) " +
                "VALUES ($1, $2, $3, $4, $5, $6, clock_timestamp(), '-infinity') " +
                "ON CONFLICT (job_id, target, ended_at) DO UPDATE SET status = $4, attempts = n.attempts + $5, error = $6, updated_at = clock_timestamp(), lease_until = '-infinity'");
            command.Parameters.Add(new() { Value = jobId });
            command.Parameters.Add(new() { Value = target });
            command.Parameters.Add(new() { Value = endedAt.ToUniversalTime() });
            command.Parameters.Add(new() { Value = (int)(sent ? NoticeStatus.Sent : NoticeStatus.Failed) });
            command.Parameters.Add(new() { Value = attempts });
            command.Parameters.Add(new() { Value = sent || error is null ? DBNull.Value : error, NpgsqlDbType = NpgsqlDbType.Text });
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        });
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<NoticeRecord>> GetNoticesAsync(string jobId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        return GuardAsync<IReadOnlyList<NoticeRecord>>(async () =>
        {
            await using var command = _source.CreateCommand(
                "SELECT target, ended_at, status, attempts, error, updated_at FROM batchops.job_notices WHERE job_id = $1 ORDER BY ended_at DESC, target");
            command.Parameters.Add(new() { Value = jobId });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var notices = new List<NoticeRecord>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                notices.Add(new NoticeRecord
                {
                    JobId = jobId, Target = reader.GetInt32(0), EndedAt = Time(reader, 1)!.Value, Status = (NoticeStatus)reader.GetInt32(2),
                    Attempts = reader.GetInt32(3), Error = reader.IsDBNull(4) ? null : reader.GetString(4), UpdatedAt = Time(reader, 5)!.Value,
                });
            }

            return notices;
        });
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<string>> JobsWithNoticesDueAsync(bool failed, CancellationToken cancellationToken = default) =>
        GuardAsync<IReadOnlyList<string>>(async () =>
        {
            await using var command = _source.CreateCommand(
                $"SELECT j.id FROM batchops.jobs j WHERE j.notify IS NOT NULL AND j.ended_at IS NOT NULL AND j.status IN ({EndedList}) " +
                "AND jsonb_array_length(j.notify::jsonb) > (SELECT count(*) FROM batchops.job_notices n WHERE n.job_id = j.id AND n.ended_at = j.ended_at " +
                "  AND (n.status = 1 OR n.status = 2 AND NOT $1 OR n.status = 0 AND n.lease_until >= clock_timestamp())) " +
                "ORDER BY j.created_at, j.seq");
            command.Parameters.Add(new() { Value = failed });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var jobs = new List<string>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                jobs.Add(reader.GetString(0));
            }

            return jobs;
        });
}
