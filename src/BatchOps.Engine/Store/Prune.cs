using BatchOps.Engine.Jobs;
using BatchOps.Engine.Notifications;

namespace BatchOps.Engine.Store;

/// <summary>A job a prune would remove, and about how many bytes of the store it holds.</summary>
public sealed record PruneCandidate(JobRecord Job, long Bytes);

/// <summary>What a prune did: the jobs removed, the ones left (and why), and the store's size before and after.</summary>
public sealed record PruneResult(IReadOnlyList<PruneCandidate> Removed, IReadOnlyList<(JobRecord Job, string Reason)> Left, long SizeBefore, long SizeAfter)
{
    /// <summary>Items the removed jobs held.</summary>
    public long Items => Removed.Sum(r => r.Job.Counts.Total);

    /// <summary>About how many bytes the removed jobs held.</summary>
    public long Bytes => Removed.Sum(r => r.Bytes);
}

/// <summary>
/// Removing finished jobs by age and status (batchops prune, Remove-BatchJob -OlderThan, the retention
/// setting): only jobs that have ended, never one that runs, is queued for workers, or rolls back; each job
/// is taken under its lease before it goes, so a resume starting at the same moment wins and the job stays.
/// </summary>
public static class Prune
{
    /// <summary>The statuses a prune may remove: the ones a job ends in.</summary>
    public static IReadOnlyList<JobStatus> Statuses => Notices.EndStatuses;

    /// <summary>The jobs ended (or, never run, created) more than <paramref name="olderThan"/> before <paramref name="now"/>, in the given statuses (default every ended status).</summary>
    public static async Task<IReadOnlyList<PruneCandidate>> FindAsync(IJobStore store, TimeSpan olderThan, IReadOnlyCollection<JobStatus>? statuses, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (olderThan < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(olderThan), olderThan, "The age is a length of time from now into the past, for example 30d.");
        }

        var asked = statuses is { Count: > 0 } ? statuses : Statuses;
        foreach (var status in asked.Where(s => !Notices.Ended(s)))
        {
            throw new ArgumentException($"Only jobs that have ended are pruned; {status} is not how a job ends. Use {string.Join(", ", Statuses)}.", nameof(statuses));
        }

        var cutoff = now - olderThan;
        var candidates = new List<PruneCandidate>();
        foreach (var job in await store.FindJobsAsync(new JobQuery { Statuses = [.. asked] }, cancellationToken).ConfigureAwait(false))
        {
            if (Eligible(job, cutoff) is null)
            {
                candidates.Add(new PruneCandidate(job, await store.GetJobBytesAsync(job.Id, cancellationToken).ConfigureAwait(false)));
            }
        }

        candidates.Reverse();
        return candidates;
    }

    /// <summary>
    /// Removes the candidates that are still eligible (ended before <paramref name="now"/> less
    /// <paramref name="olderThan"/>), oldest first, then gives the space back; each removed job's log in
    /// <paramref name="logFolder"/> goes too.
    /// </summary>
    public static async Task<PruneResult> RemoveAsync(IJobStore store, IReadOnlyList<PruneCandidate> candidates, TimeSpan olderThan, DateTimeOffset now, CancellationToken cancellationToken = default, string? logFolder = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(candidates);
        var removed = new List<PruneCandidate>();
        var left = new List<(JobRecord, string)>();
        foreach (var candidate in candidates)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var job = await store.GetJobAsync(candidate.Job.Id, cancellationToken).ConfigureAwait(false);
            if (job is null)
            {
                continue;
            }

            if (Eligible(job, now - olderThan) is { } reason)
            {
                left.Add((job, reason));
                continue;
            }

            if (!await store.TryAcquireLeaseAsync(job.Id, JobLease.ForCurrentProcess(now), cancellationToken).ConfigureAwait(false))
            {
                left.Add((job, "it started running"));
                continue;
            }

            await store.RemoveJobAsync(job.Id, cancellationToken).ConfigureAwait(false);
            if (logFolder is not null && File.Exists(Path.Combine(logFolder, $"{job.Id}.log")))
            {
                File.Delete(Path.Combine(logFolder, $"{job.Id}.log"));
            }

            removed.Add(candidate);
        }

        var (before, after) = removed.Count == 0 ? (0L, 0L) : await store.CompactAsync(cancellationToken).ConfigureAwait(false);
        return new PruneResult(removed, left, before, after);
    }

    /// <summary>Null when the job may be pruned; else why not.</summary>
    private static string? Eligible(JobRecord job, DateTimeOffset cutoff) => job switch
    {
        { Queued: true } => "it is queued for workers",
        { RollingBack: true } when !Notices.Ended(job.Status) => "it is rolling back",
        { Lease: not null } => "it is running",
        _ when !Notices.Ended(job.Status) => $"it is {job.Status}",
        _ when (job.EndedAt ?? job.CreatedAt) >= cutoff => "it is not old enough",
        _ => null,
    };
}
