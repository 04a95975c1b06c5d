using BatchOps.Engine.Notifications;

namespace BatchOps.Engine.Store;

public sealed partial class SqliteJobStore
{
    /// <summary>The ended statuses as a SQL list.</summary>
    private static readonly string EndedList = string.Join(", ", Notices.EndStatuses.Select(s => (int)s));

    /// <inheritdoc/>
    public Task<NoticeRecord?> ClaimNoticeAsync(string jobId, int target, DateTimeOffset endedAt, TimeSpan lease, bool retryFailed, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        return Task.FromResult(Guard(() =>
        {
            using var connection = Connect();
            using var command = connection.CreateCommand();
            // One statement: a new notice, or one whose claim ran out (or that failed, when retried), becomes this sender's.
            command.CommandText =
                "INSERT INTO job_notices (job_id, target, ended_at, status, attempts, updated_at, lease_until) VALUES ($job, $target, $ended, 0, 0, $now, $until) " +
                "ON CONFLICT (job_id, target, ended_at) DO UPDATE SET status = 0, updated_at = $now, lease_until = $until " +
                "WHERE job_notices.status = 0 AND job_notices.lease_until < $now OR job_notices.status = 2 AND $retryFailed " +
                "RETURNING attempts, error, updated_at";
            var now = _time.GetUtcNow();
            command.Parameters.AddWithValue("$job", jobId);
            command.Parameters.AddWithValue("$target", target);
            command.Parameters.AddWithValue("$ended", ToMs(endedAt));
            command.Parameters.AddWithValue("$now", ToMs(now));
            command.Parameters.AddWithValue("$until", ToMs(now + lease));
            command.Parameters.AddWithValue("$retryFailed", retryFailed);
            using var reader = command.ExecuteReader();
            return reader.Read()
                ? new NoticeRecord
                {
                    JobId = jobId, Target = target, EndedAt = endedAt, Status = NoticeStatus.Sending,
                    Attempts = reader.GetInt32(0), Error = reader.IsDBNull(1) ? null : reader.GetString(1), UpdatedAt = FromMs(reader.GetInt64(2)),
                }
                : null;
        }));
    }

    /// <inheritdoc/>
    public Task RecordNoticeAsync(string jobId, int target, DateTimeOffset endedAt, bool sent, int attempts, string? error, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        return Task.FromResult(Guard(() =>
        {
            using var connection = Connect();
            using var command = connection.CreateCommand();
            command.CommandText =
                "INSERT INTO job_notices (job_id, target, ended_at, status, attempts, error, updated_at, lease_until) VALUES ($job, $target, $ended, $status, $attempts, $error, $now, $never) " +
                "ON CONFLICT (job_id, target, ended_at) DO UPDATE SET status = $status, attempts = job_notices.attempts + $attempts, error = $error, updated_at = $now, lease_until = $never";
            command.Parameters.AddWithValue("$job", jobId);
            command.Parameters.AddWithValue("$target", target);
            command.Parameters.AddWithValue("$ended", ToMs(endedAt));
            command.Parameters.AddWithValue("$status", (int)(sent ? NoticeStatus.Sent : NoticeStatus.Failed));
            command.Parameters.AddWithValue("$attempts", attempts);
            command.Parameters.AddWithValue("$error", sent || error is null ? DBNull.Value : error);
            command.Parameters.AddWithValue("$now", ToMs(_time.GetUtcNow()));
            command.Parameters.AddWithValue("$never", long.MinValue);
            return command.ExecuteNonQuery();
        }));
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<NoticeRecord>> GetNoticesAsync(string jobId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        return Task.FromResult(Guard<IReadOnlyList<NoticeRecord>>(() =>
        {
            using var connection = Connect();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT target, ended_at, status, attempts, error, updated_at FROM job_notices WHERE job_id = $job ORDER BY ended_at DESC, target";
            command.Parameters.AddWithValue("$job", jobId);
            using var reader = command.ExecuteReader();
            var notices = new List<NoticeRecord>();
            while (reader.Read())
            {
                notices.Add(new NoticeRecord
                {
                    JobId = jobId, Target = reader.GetInt32(0), EndedAt = FromMs(reader.GetInt64(1)), Status = (NoticeStatus)reader.GetInt32(2),
                    Attempts = reader.GetInt32(3), Error = reader.IsDBNull(4) ? null : reader.GetString(4), UpdatedAt = FromMs(reader.GetInt64(5)),
                });
            }

            return notices;
        }));
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<string>> JobsWithNoticesDueAsync(bool failed, CancellationToken cancellationToken = default) =>
        Task.FromResult(Guard<IReadOnlyList<string>>(() =>
        {
            using var connection = Connect();
            using var command = connection.CreateCommand();
            command.CommandText =
                $"SELECT j.id FROM jobs j WHERE j.notify IS NOT NULL AND j.ended_at IS NOT NULL AND j.status IN ({EndedList}) " +
                "AND json_array_length(j.notify) > (SELECT count(*) FROM job_notices n WHERE n.job_id = j.id AND n.ended_at = j.ended_at " +
                "  AND (n.status = 1 OR n.status = 2 AND NOT $failed OR n.status = 0 AND n.lease_until >= $now)) " +
                "ORDER BY j.created_at, j.rowid";
            command.Parameters.AddWithValue("$failed", failed);
            command.Parameters.AddWithValue("$now", ToMs(_time.GetUtcNow()));
            using var reader = command.ExecuteReader();
            var jobs = new List<string>();
            while (reader.Read())
            {
                jobs.Add(reader.GetString(0));
            }

            return jobs;
        }));
}
