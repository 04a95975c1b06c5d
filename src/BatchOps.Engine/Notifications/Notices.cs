using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Notifications;

/// <summary>The rules every store applies to notices (the SQL stores in their statements, the in-memory store here).</summary>
public static class Notices
{
    /// <summary>How long a sender holds a notice it claimed; past it, another sender may send it.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    /// <summary>The statuses a job ends in, which notices are about.</summary>
    public static readonly JobStatus[] EndStatuses =
        [JobStatus.Completed, JobStatus.CompletedWithErrors, JobStatus.Failed, JobStatus.Cancelled, JobStatus.Interrupted, JobStatus.RolledBack, JobStatus.RollbackFailed];

    /// <summary>Whether a job in <paramref name="status"/> has ended.</summary>
    public static bool Ended(JobStatus status) => Array.IndexOf(EndStatuses, status) >= 0;

    /// <summary>Whether a notice may be claimed: new, its claim ran out, or failed when failures are retried.</summary>
    public static bool Claimable(NoticeStatus status, DateTimeOffset leaseUntil, DateTimeOffset now, bool retryFailed) => status switch
    {
        NoticeStatus.Sent => false,
        NoticeStatus.Failed => retryFailed,
        _ => leaseUntil < now,
    };

    /// <summary>Whether a notice needs nothing more from a sender now: sent, failed (unless failures are retried), or held.</summary>
    public static bool Settled(NoticeStatus status, DateTimeOffset leaseUntil, DateTimeOffset now, bool retryFailed) =>
        !Claimable(status, leaseUntil, now, retryFailed);

    /// <summary>A notice in words, for a job's log and a worker's output (secrets are references, never values).</summary>
    public static string Describe(NotificationTarget target, NoticeRecord notice)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(notice);
        return notice.Status switch
        {
            NoticeStatus.Sent => $"notice sent: {target.Description} ({notice.Attempts} attempt(s))",
            NoticeStatus.Failed => $"notice failed: {target.Description} after {notice.Attempts} attempt(s): {notice.Error}",
            _ => $"notice being sent: {target.Description}",
        };
    }

    /// <summary>
    /// Each of the job's targets with where its notice of the job's last end stands: sent, failed with the
    /// error, being sent, due, not for this status, or waiting for the job to end. Empty without targets.
    /// </summary>
    public static IReadOnlyList<string> Summaries(Store.JobRecord job, IReadOnlyList<NoticeRecord> notices)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(notices);
        if (job.Notify is not { Count: > 0 } targets)
        {
            return [];
        }

        var lines = new List<string>();
        for (var i = 0; i < targets.Count; i++)
        {
            var target = targets[i];
            var notice = notices.FirstOrDefault(n => n.Target == i && n.EndedAt == job.EndedAt);
            var state = notice switch
            {
                { Status: NoticeStatus.Sent } sent => $"sent {sent.UpdatedAt.ToLocalTime():yyyy-MM-dd HH:mm:ss} ({sent.Attempts} attempt(s))",
                { Status: NoticeStatus.Failed } failed => $"FAILED after {failed.Attempts} attempt(s): {failed.Error} (send again: batchops notify --pending --failed)",
                { } sending => $"being sent since {sending.UpdatedAt.ToLocalTime():yyyy-MM-dd HH:mm:ss}",
                null when job.EndedAt is null || !Ended(job.Status) => "waits for the job to end",
                null when !target.On.Contains(job.Status) => $"not for {job.Status}",
                null => "due (batchops notify --pending sends it)",
            };
            lines.Add($"{target.Description} on {string.Join(", ", target.On)}: {state}");
        }

        return lines;
    }
}
