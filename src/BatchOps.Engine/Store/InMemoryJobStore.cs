using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Store;

/// <summary>
/// A store that lives only as long as the process: for tests, and as the baseline that the durable
/// store's cost is measured against. Same semantics as <see cref="SqliteJobStore"/>, one lock for everything.
/// </summary>
public sealed class InMemoryJobStore(TimeProvider? time = null) : IJobStore
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly object _lock = new();
    private readonly Dictionary<string, JobRecord> _jobs = [];
    private readonly Dictionary<(string, long), List<ItemRetry>> _retries = [];
    private readonly Dictionary<string, SortedDictionary<long, StoredItem>> _items = [];
    private readonly Dictionary<(string, long), List<ItemHistoryEntry>> _history = [];
    private long _sequence;
    private readonly Dictionary<string, long> _order = [];
    private readonly Dictionary<(string JobId, int Target, DateTimeOffset EndedAt), (Notifications.NoticeRecord Notice, DateTimeOffset LeaseUntil)> _notices = [];

    /// <inheritdoc/>
    public string Location => "(in memory)";

    /// <inheritdoc/>
    public Task CreateJobAsync(JobRecord job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        lock (_lock)
        {
            if (!_jobs.TryAdd(job.Id, job with { CreatedAt = job.CreatedAt == default ? _time.GetUtcNow() : job.CreatedAt, Counts = new ItemCounts() }))
            {
                throw new StoreException($"A job with id '{job.Id}' already exists.");
            }

            _items[job.Id] = [];
            _order[job.Id] = _sequence++;
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task AddItemsAsync(string jobId, IReadOnlyList<StoredItem> items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        lock (_lock)
        {
            var stored = ItemsOf(jobId);
            foreach (var item in items)
            {
                stored.TryAdd(item.Index, item);
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task CheckpointAsync(string jobId, IReadOnlyList<ItemOutcome> outcomes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        lock (_lock)
        {
            var stored = ItemsOf(jobId);
            foreach (var o in outcomes)
            {
                if (stored.TryGetValue(o.Index, out var item))
                {
                    stored[o.Index] = item with
                    {
                        Status = o.Status,
                        Attempts = o.Attempts,
                        Output = o.Output,
                        Error = o.Error,
                        StartedAt = o.StartedAt,
                        EndedAt = o.EndedAt,
                        Duration = o.Duration,
                    };
                }

                if (o.Retries is { Count: > 0 } retries)
                {
                    var run = JobOf(jobId).RunCount;
                    if (!_retries.TryGetValue((jobId, o.Index), out var kept))
                    {
                        _retries[(jobId, o.Index)] = kept = [];
                    }

                    kept.AddRange(retries.Select(r => r with { Run = run }));
                }
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task RecordCompensationsAsync(string jobId, IReadOnlyList<ItemOutcome> outcomes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        lock (_lock)
        {
            var run = JobOf(jobId).RunCount;
            var stored = ItemsOf(jobId);
            foreach (var o in outcomes)
            {
                if (stored.TryGetValue(o.Index, out var item))
                {
                    var key = (jobId, o.Index);
                    if (!_history.TryGetValue(key, out var history))
                    {
                        _history[key] = history = [];
                    }

                    history.Add(new ItemHistoryEntry(run, item.Status, item.Attempts, item.Error, item.EndedAt));
                    stored[o.Index] = item with { Status = o.Status, Attempts = o.Attempts, Error = o.Error, StartedAt = o.StartedAt, EndedAt = o.EndedAt, Duration = o.Duration };
                }
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task BeginRollbackAsync(string jobId, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _jobs[jobId] = JobOf(jobId) with { RollingBack = true };
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<JobRecord?> GetJobAsync(string jobId, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult(_jobs.ContainsKey(jobId) ? View(jobId) : null);
        }
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<JobRecord>> FindJobsAsync(JobQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        lock (_lock)
        {
            var name = query.Name is null ? null : new Regex("^" + Regex.Escape(query.Name).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$", RegexOptions.IgnoreCase);
            IEnumerable<JobRecord> jobs = _jobs.Keys.OrderByDescending(id => _order[id]).Select(View);
            jobs = jobs.Where(j =>
                (query.Id is null || j.Id == query.Id)
                && (name is null || name.IsMatch(j.Name))
                && (query.Tag is null || j.Tags.Contains(query.Tag, StringComparer.OrdinalIgnoreCase))
                && (query.Since is null || j.CreatedAt >= query.Since)
                && (query.Statuses is not { Count: > 0 } ? j.Status != JobStatus.Creating : query.Statuses.Contains(j.Status)));
            return Task.FromResult<IReadOnlyList<JobRecord>>(jobs.Skip(query.Skip ?? 0).Take(query.Newest ?? int.MaxValue).ToList());
        }
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<StoredItem> GetItemsAsync(string jobId, ItemQuery query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        List<StoredItem> snapshot;
        lock (_lock)
        {
            snapshot = ItemsOf(jobId).Values
                .Where(i => (query.Statuses is not { Count: > 0 } || query.Statuses.Contains(i.Status))
                    && (query.Indexes is null || query.Indexes.Contains(i.Index))
                    && query.InRange(i.Index))
                .ToList();
        }

        foreach (var item in snapshot)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return item;
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<ItemHistoryEntry>> GetItemHistoryAsync(string jobId, long index, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<ItemHistoryEntry>>(_history.TryGetValue((jobId, index), out var h) ? h.ToList() : []);
        }
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<ItemRetry>> GetItemRetriesAsync(string jobId, long index, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<ItemRetry>>(_retries.TryGetValue((jobId, index), out var r) ? r.ToList() : []);
        }
    }

    /// <inheritdoc/>
    public Task<bool> TryAcquireLeaseAsync(string jobId, JobLease lease, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var job = JobOf(jobId);
            if (job.Lease is { } holder && !holder.SameOwnerAs(lease) && holder.IsAlive(_time.GetUtcNow()))
            {
                return Task.FromResult(false);
            }

            _jobs[jobId] = job with
            {
                Status = JobStatus.Running, Lease = lease, StartedAt = _time.GetUtcNow(), EndedAt = null, Message = null, StopRequest = null, RunCount = job.RunCount + 1,
            };
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc/>
    public Task<StopMode?> RenewLeaseAsync(string jobId, JobLease lease, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var job = JobOf(jobId);
            if (job.Lease is null || !job.Lease.SameOwnerAs(lease))
            {
                return Task.FromResult<StopMode?>(StopMode.Forced);
            }

            _jobs[jobId] = job with { Lease = job.Lease with { HeartbeatAt = _time.GetUtcNow() } };
            return Task.FromResult(job.StopRequest);
        }
    }

    /// <inheritdoc/>
    public Task ReleaseLeaseAsync(string jobId, JobLease lease, JobStatus status, string? message, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var job = JobOf(jobId);
            if (job.Lease is not null && job.Lease.SameOwnerAs(lease))
            {
                _jobs[jobId] = job with { Status = status, Message = message, EndedAt = _time.GetUtcNow(), Lease = null, StopRequest = null };
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<bool> RequestStopAsync(string jobId, StopMode mode, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (!_jobs.TryGetValue(jobId, out var job))
            {
                return Task.FromResult(false);
            }

            _jobs[jobId] = job with { StopRequest = job.StopRequest is { } existing && existing > mode ? existing : mode };
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc/>
    public Task SetStatusAsync(string jobId, JobStatus status, string? message, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _jobs[jobId] = JobOf(jobId) with { Status = status, Message = message, StopRequest = null, Lease = null };
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task EndInputAsync(string jobId, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _jobs[jobId] = JobOf(jobId) with { InputIncomplete = false };
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<long>> ResetFailedAsync(string jobId, IReadOnlyCollection<long>? indexes, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var run = JobOf(jobId).RunCount;
            var stored = ItemsOf(jobId);
            var reset = stored.Values.Where(i => i.Status == ItemStatus.Failed && (indexes is null || indexes.Contains(i.Index))).ToList();
            foreach (var item in reset)
            {
                var key = (jobId, item.Index);
                if (!_history.TryGetValue(key, out var history))
                {
                    _history[key] = history = [];
                }

                history.Add(new ItemHistoryEntry(run, item.Status, item.Attempts, item.Error, item.EndedAt));
                stored[item.Index] = item with { Status = ItemStatus.Pending, Attempts = 0, Output = null, Error = null, StartedAt = null, EndedAt = null, Duration = null };
            }

            return Task.FromResult<IReadOnlyList<long>>(reset.Select(i => i.Index).ToList());
        }
    }

    /// <inheritdoc/>
    public Task<bool> RemoveJobAsync(string jobId, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            foreach (var key in _notices.Keys.Where(k => k.JobId == jobId).ToList())
            {
                _notices.Remove(key);
            }

            _items.Remove(jobId);
            _order.Remove(jobId);
            foreach (var key in _history.Keys.Where(k => k.Item1 == jobId).ToList())
            {
                _history.Remove(key);
            }

            foreach (var key in _retries.Keys.Where(k => k.Item1 == jobId).ToList())
            {
                _retries.Remove(key);
            }

            return Task.FromResult(_jobs.Remove(jobId));
        }
    }

    /// <inheritdoc/>
    public async Task<StoreStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default) =>
        StoreStatisticsBuilder.Build(await FindJobsAsync(new JobQuery(), cancellationToken).ConfigureAwait(false));

    /// <inheritdoc/>
    public void Dispose()
    {
    }

    private JobRecord JobOf(string jobId) =>
        _jobs.TryGetValue(jobId, out var job) ? job : throw new StoreException($"There is no job '{jobId}' in the in-memory store.");

    private SortedDictionary<long, StoredItem> ItemsOf(string jobId) =>
        _items.TryGetValue(jobId, out var items) ? items : throw new StoreException($"There is no job '{jobId}' in the in-memory store.");

    private JobRecord View(string jobId)
    {
        var job = _jobs[jobId];
        var counts = new ItemCounts();
        foreach (var group in _items[jobId].Values.GroupBy(i => i.Status))
        {
            counts = counts.With(group.Key, group.LongCount());
        }

        job = job with { Counts = counts };
        return JobCreation.ShowingInput(job.Status == JobStatus.Running && (job.Lease is null || !job.Lease.IsAlive(_time.GetUtcNow()))
            ? job with { Status = JobStatus.Interrupted }
            : job);
    }

    /// <inheritdoc/>
    public Task<Notifications.NoticeRecord?> ClaimNoticeAsync(string jobId, int target, DateTimeOffset endedAt, TimeSpan lease, bool retryFailed, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            var key = (jobId, target, endedAt);
            if (_notices.TryGetValue(key, out var existing) && !Notifications.Notices.Claimable(existing.Notice.Status, existing.LeaseUntil, now, retryFailed))
            {
                return Task.FromResult<Notifications.NoticeRecord?>(null);
            }

            var claimed = new Notifications.NoticeRecord
            {
                JobId = jobId, Target = target, EndedAt = endedAt, Status = Notifications.NoticeStatus.Sending,
                Attempts = existing.Notice?.Attempts ?? 0, Error = existing.Notice?.Error, UpdatedAt = now,
            };
            _notices[key] = (claimed, now + lease);
            return Task.FromResult<Notifications.NoticeRecord?>(claimed);
        }
    }

    /// <inheritdoc/>
    public Task RecordNoticeAsync(string jobId, int target, DateTimeOffset endedAt, bool sent, int attempts, string? error, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var key = (jobId, target, endedAt);
            var before = _notices.TryGetValue(key, out var existing) ? existing.Notice.Attempts : 0;
            _notices[key] = (new Notifications.NoticeRecord
            {
                JobId = jobId, Target = target, EndedAt = endedAt, Status = sent ? Notifications.NoticeStatus.Sent : Notifications.NoticeStatus.Failed,
                Attempts = before + attempts, Error = sent ? null : error, UpdatedAt = _time.GetUtcNow(),
            }, DateTimeOffset.MinValue);
            return Task.CompletedTask;
        }
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<Notifications.NoticeRecord>> GetNoticesAsync(string jobId, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<Notifications.NoticeRecord>>([.. _notices.Values.Select(n => n.Notice).Where(n => n.JobId == jobId).OrderByDescending(n => n.EndedAt).ThenBy(n => n.Target)]);
        }
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<string>> JobsWithNoticesDueAsync(bool failed, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            return Task.FromResult<IReadOnlyList<string>>([.. _jobs.Values
                .Where(j => j.Notify is { Count: > 0 } && j.EndedAt is not null && Notifications.Notices.Ended(j.Status))
                .Where(j => _notices.Where(n => n.Key.JobId == j.Id && n.Key.EndedAt == j.EndedAt).Count(n => Notifications.Notices.Settled(n.Value.Notice.Status, n.Value.LeaseUntil, now, failed)) < j.Notify!.Count)
                .OrderBy(j => j.CreatedAt)
                .Select(j => j.Id)]);
        }
    }

    /// <inheritdoc/>
    public Task<long> GetJobBytesAsync(string jobId, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult(_items.TryGetValue(jobId, out var items)
                ? items.Values.Sum(i => (long)i.Input.Length + (i.Output?.Length ?? 0) + (i.Key?.Length ?? 0) + (i.Error?.Message.Length ?? 0))
                : 0L);
        }
    }

    /// <inheritdoc/>
    public Task<(long Before, long After)> CompactAsync(CancellationToken cancellationToken = default) => Task.FromResult((0L, 0L));

    /// <inheritdoc/>
    public Task<long?> GetStoreBytesAsync(CancellationToken cancellationToken = default) => Task.FromResult<long?>(null);
}
