using BatchOps.Engine.Store;

namespace BatchOps.Engine.Jobs;

/// <summary>
/// A job is created whole or not at all. It is recorded <see cref="JobStatus.Creating"/> with its creator's
/// lease, its items are added (the lease's heartbeat renewed as they go), and only then does it become
/// Pending. A creation cut short (a kill, a full disk, Ctrl+C) leaves no job a list, resume or worker would
/// take: the creator removes what it recorded when it can, and the next open of the store removes a
/// Creating job whose creator is gone.
/// </summary>
public static class JobCreation
{
    /// <summary>What a Creating job whose creator is gone says about itself until it is removed.</summary>
    public const string CutShortMessage =
        "Its creation was cut short (the process creating it ended before its last item was recorded), so it holds only part of its items. It is removed the next time the store is opened (or remove it now); create the job again.";

    /// <summary>How often a creation renews its lease, well inside <see cref="JobLease.Expiry"/>.</summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Removes the jobs whose creation was cut short (Creating, creator gone); returns how many. Best effort:
    /// a store that cannot be written to now keeps them, still invisible, for a later open.
    /// </summary>
    public static async Task<int> RemoveAbandonedAsync(IJobStore store, TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(time);
        var removed = 0;
        try
        {
            foreach (var job in await store.FindJobsAsync(new JobQuery { Statuses = [JobStatus.Creating] }, cancellationToken).ConfigureAwait(false))
            {
                if (job.Lease is null || !job.Lease.IsAlive(time.GetUtcNow()))
                {
                    removed += await store.RemoveJobAsync(job.Id, cancellationToken).ConfigureAwait(false) ? 1 : 0;
                }
            }
        }
        catch (StoreException)
        {
            // Read-only, full or busy: the jobs stay Creating, which every reader already leaves alone.
        }

        return removed;
    }

    /// <summary>
    /// The job as readers show it when its streamed input was cut short: the message says how many items were
    /// recorded before the input stopped, ahead of any message of its own. Unchanged while it runs or when its input ended.
    /// </summary>
    public static JobRecord ShowingInput(JobRecord job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return job.InputIncomplete && job.Status != JobStatus.Running
            ? job with { Message = $"{InputIncompleteMessage(job.Counts.Total)}{(job.Message is { } own ? " " + own : string.Empty)}" }
            : job;
    }

    /// <summary>What a job whose streamed input was cut short says: the items it holds are all it will ever hold.</summary>
    public static string InputIncompleteMessage(long recorded) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"input incomplete: {recorded:N0} item(s) were recorded before the input stopped; a resume runs those only.");

    /// <summary>The refusal for running a job that is still being created, or whose creation was cut short.</summary>
    public static StoreException NotCreated(JobRecord job, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(time);
        return job.Lease is { } creator && creator.IsAlive(time.GetUtcNow())
            ? new StoreException($"Job '{job.Name}' ({job.Id}) is still being created by process {creator.ProcessId} on {creator.Host}; wait until it is, then run it.")
            : new StoreException($"Job '{job.Name}' ({job.Id}) was never created whole: {CutShortMessage}");
    }
}
