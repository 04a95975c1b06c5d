using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Store;

/// <summary>
/// Durable record of jobs and item outcomes. Implementations must be safe for several threads and several
/// processes at once, and must not assume one machine: ownership is a lease, stopping is a request the
/// owner polls, and every write that belongs together is one transaction.
/// </summary>
public interface IJobStore : IDisposable
{
    /// <summary>Where the store lives: a file path, or a description for non-file stores.</summary>
    string Location { get; }

    /// <summary>
    /// Records a new job (no items yet) with its status: Pending, or Creating with its creator's
    /// <see cref="JobRecord.Lease"/>, which <see cref="RenewLeaseAsync"/> keeps fresh while the items are recorded.
    /// </summary>
    Task CreateJobAsync(JobRecord job, CancellationToken cancellationToken = default);

    /// <summary>Records items as Pending in one transaction; items already recorded are left as they are.</summary>
    Task AddItemsAsync(string jobId, IReadOnlyList<StoredItem> items, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records new Pending items, consecutive runs of <paramref name="blockSize"/> of them (the job's chunks)
    /// as one record each where the store supports it: a chunk that then succeeds whole is checkpointed as
    /// one record too. Reads return the same items either way. The default records them one by one.
    /// </summary>
    Task AddItemBlocksAsync(string jobId, IReadOnlyList<StoredItem> items, int blockSize, CancellationToken cancellationToken = default) =>
        AddItemsAsync(jobId, items, cancellationToken);

    /// <summary>
    /// Records new Pending items that live in the job's items file (<see cref="JobRecord.ItemsFile"/>), a
    /// range per record, without copying them where the store supports it; reads then take them from the
    /// file. The default reads each range and records copies with <see cref="AddItemBlocksAsync"/>.
    /// </summary>
    async Task AddItemRangesAsync(string jobId, ItemsFileInfo file, IReadOnlyList<ItemRange> ranges, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(ranges);
        foreach (var range in ranges)
        {
            var lines = file.ReadRange(range);
            var items = new StoredItem[lines.Length];
            for (var i = 0; i < items.Length; i++)
            {
                items[i] = new StoredItem { Index = range.First + i, Key = range.Keys?[i], Input = lines[i] };
            }

            await AddItemBlocksAsync(jobId, items, items.Length, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Writes the outcomes of one chunk in one transaction.</summary>
    Task CheckpointAsync(string jobId, IReadOnlyList<ItemOutcome> outcomes, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records compensations (undo outcomes: Compensated or CompensationFailed) in one transaction: each
    /// item's earlier outcome moves to its history, its output (what the undo was given) is kept.
    /// </summary>
    Task RecordCompensationsAsync(string jobId, IReadOnlyList<ItemOutcome> outcomes, CancellationToken cancellationToken = default);

    /// <summary>Records that the streamed input of a job ended: every item it was given is recorded (<see cref="JobRecord.InputIncomplete"/> false).</summary>
    Task EndInputAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>Marks the job as rolling back: from now on a resume goes on compensating, never runs items.</summary>
    Task BeginRollbackAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>One job with its counts, or null.</summary>
    Task<JobRecord?> GetJobAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>Jobs matching the query, newest first; jobs still being created (<see cref="JobStatus.Creating"/>) only when the query asks for that status.</summary>
    Task<IReadOnlyList<JobRecord>> FindJobsAsync(JobQuery query, CancellationToken cancellationToken = default);

    /// <summary>How many jobs match the query's filters (its paging ignored): the total behind a page.</summary>
    async Task<int> CountJobsAsync(JobQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        return (await FindJobsAsync(query.Unpaged, cancellationToken).ConfigureAwait(false)).Count;
    }

    /// <summary>Streams a job's items in index order, reading a page at a time.</summary>
    IAsyncEnumerable<StoredItem> GetItemsAsync(string jobId, ItemQuery query, CancellationToken cancellationToken = default);

    /// <summary>Earlier outcomes of one item, oldest first.</summary>
    Task<IReadOnlyList<ItemHistoryEntry>> GetItemHistoryAsync(string jobId, long index, CancellationToken cancellationToken = default);

    /// <summary>The failed attempts of one item that were tried again (every run), oldest first; written with the item's outcome.</summary>
    Task<IReadOnlyList<ItemRetry>> GetItemRetriesAsync(string jobId, long index, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes the job's lease unless a live owner holds it; on success the job is Running, its run count
    /// grows by one and any old stop request is cleared.
    /// </summary>
    Task<bool> TryAcquireLeaseAsync(string jobId, JobLease lease, CancellationToken cancellationToken = default);

    /// <summary>Renews the lease (heartbeat) and returns a stop another process requested, if any.</summary>
    Task<StopMode?> RenewLeaseAsync(string jobId, JobLease lease, CancellationToken cancellationToken = default);

    /// <summary>Ends a run: sets the job's final status and message and frees the lease.</summary>
    Task ReleaseLeaseAsync(string jobId, JobLease lease, JobStatus status, string? message, CancellationToken cancellationToken = default);

    /// <summary>Asks the job's owner, in whatever process, to stop. False when there is no such job.</summary>
    Task<bool> RequestStopAsync(string jobId, StopMode mode, CancellationToken cancellationToken = default);

    /// <summary>Sets the status of a job that has no live owner (for example cancelling a Pending job), clearing any lease it kept.</summary>
    Task SetStatusAsync(string jobId, JobStatus status, string? message, CancellationToken cancellationToken = default);

    /// <summary>
    /// Resets Failed items (all, or the given indexes) to Pending for a retry, keeping each one's earlier
    /// outcome in its history; returns the indexes reset.
    /// </summary>
    Task<IReadOnlyList<long>> ResetFailedAsync(string jobId, IReadOnlyCollection<long>? indexes, CancellationToken cancellationToken = default);

    /// <summary>Deletes a job with its items and history. False when there is no such job.</summary>
    Task<bool> RemoveJobAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>The store's size on disk in bytes; null for a store that has none (in memory).</summary>
    Task<long?> GetStoreBytesAsync(CancellationToken cancellationToken = default);

    /// <summary>About how many bytes the job's records take in the store (its items' inputs, outputs, errors and keys, its history and retries), for what a prune frees.</summary>
    Task<long> GetJobBytesAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Gives back the space removed jobs left (SQLite: returns free pages to the file system in short steps,
    /// switching an older store to incremental vacuum once when enough is free; PostgreSQL: a plain VACUUM of
    /// the item tables, which never blocks writers). Returns the store's size before and after, in bytes.
    /// </summary>
    Task<(long Before, long After)> CompactAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Claims the notice of a job's end (<paramref name="endedAt"/>, the job's <see cref="JobRecord.EndedAt"/>)
    /// to one of its targets for <paramref name="lease"/>: the notice is new, or its last sender's claim ran out
    /// (it died while sending), or it failed and <paramref name="retryFailed"/>. Null when it was sent, is held by
    /// another sender, or failed (without <paramref name="retryFailed"/>). One row per job, target and end.
    /// </summary>
    Task<Notifications.NoticeRecord?> ClaimNoticeAsync(string jobId, int target, DateTimeOffset endedAt, TimeSpan lease, bool retryFailed, CancellationToken cancellationToken = default);

    /// <summary>Records how a claimed notice went: Sent, or Failed with the last error; adds the attempts made.</summary>
    Task RecordNoticeAsync(string jobId, int target, DateTimeOffset endedAt, bool sent, int attempts, string? error, CancellationToken cancellationToken = default);

    /// <summary>The job's notices, every end's, newest end first, by target.</summary>
    Task<IReadOnlyList<Notifications.NoticeRecord>> GetNoticesAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Ended jobs with targets to tell whose last end has fewer settled notices (sent; failed too unless
    /// <paramref name="failed"/>; held by a live claim) than targets: what <c>batchops notify --pending</c> looks at.
    /// A target whose statuses do not include the job's never gets a notice, so such a job is listed and sends nothing.
    /// </summary>
    Task<IReadOnlyList<string>> JobsWithNoticesDueAsync(bool failed, CancellationToken cancellationToken = default);

    /// <summary>
    /// A staged job's items by status and run times per stage (by position in <see cref="JobRecord.Stages"/>);
    /// empty for a job without stages. Stores that keep counts answer without reading items; the default scans them.
    /// </summary>
    Task<IReadOnlyList<StageTally>> GetStageTalliesAsync(JobRecord job, CancellationToken cancellationToken = default) =>
        StageTally.ScanAsync(this, job, cancellationToken);

    /// <summary>Totals over all jobs.</summary>
    Task<StoreStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default);
}
