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
}
