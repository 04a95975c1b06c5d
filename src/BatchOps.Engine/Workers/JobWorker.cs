using BatchOps.Engine.Diagnostics;
using System.Collections.Concurrent;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Logging;
using BatchOps.Engine.Store;

namespace BatchOps.Engine.Workers;

/// <summary>
/// Runs queued jobs' chunks for as long as it is asked to: claims a chunk, runs its unfinished items with
/// the job's settings while a heartbeat keeps the claim and watches for stop requests, records the
/// outcomes with the claim's token (discarded when the claim was lost), goes on with the job's next chunk,
/// and ends the job when nothing of it is left. Each of <see cref="WorkerOptions.Concurrency"/> slots runs
/// one job at a time, its items at most ThrottleLimit at a time, so a job's ThrottleLimit holds per worker.
/// </summary>
public sealed partial class JobWorker
{
    private readonly IJobStore _store;
    private readonly IWorkQueue _queue;
    private readonly Func<JobRecord, QueuedJobHandler> _handlers;
    private readonly WorkerOptions _options;
    private readonly WorkerIdentity _identity;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, byte> _busy = new();
    private readonly ConcurrentDictionary<string, JobRecord> _jobs = new();
    private readonly string _id = Guid.NewGuid().ToString("N")[..12];
    private long _recorded;
    private CancellationToken _stopping;
    private CancellationTokenSource? _askedToStop;

    /// <summary>Creates a worker over a store that queues work.</summary>
    /// <param name="store">The store (a PostgreSQL store implements <see cref="IWorkQueue"/>).</param>
    /// <param name="handlers">How to run a job of one of <see cref="WorkerOptions.Kinds"/>; throws for a job it cannot run.</param>
    /// <param name="options">Name, concurrency, kinds, lease.</param>
    /// <param name="time">Clock for heartbeats and polling; the default is the system clock.</param>
    public JobWorker(IJobStore store, Func<JobRecord, QueuedJobHandler> handlers, WorkerOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(handlers);
        ArgumentNullException.ThrowIfNull(options);
        _queue = store as IWorkQueue ?? throw new StoreException(
            $"The job store '{store.Location}' cannot queue jobs for workers: it is one machine's SQLite file. Use a PostgreSQL store (--store postgresql://…, BATCHOPS_STORE, -Store).");
        _store = store;
        _handlers = handlers;
        _options = options;
        _identity = WorkerIdentity.ForCurrentProcess(options.Name);
        _time = time ?? TimeProvider.System;
        if (options.Kinds.Count == 0)
        {
            throw new ArgumentException("A worker needs at least one operation kind to run.", nameof(options));
        }
    }

    /// <summary>This worker's name, host and process.</summary>
    public WorkerIdentity Identity => _identity;

    /// <summary>This worker run's id in the store's list of workers (<see cref="IWorkQueue.ListWorkersAsync"/>): a restarted worker gets a new one.</summary>
    public string Id => _id;

    /// <summary>What the worker did (claims, lost claims, ended jobs), one line each, for its output or log.</summary>
    public event Action<WorkerEvent>? Reported;

    /// <summary>
    /// Runs until <paramref name="stopping"/> fires or the worker is asked to stop through the store
    /// (<see cref="IWorkQueue.AskWorkersToStopAsync"/>, read at each presence beat), then claims nothing more
    /// and finishes the chunks it holds; when <paramref name="abandon"/> fires too, it stops them at once and
    /// gives their claims back unrecorded.
    /// </summary>
    public async Task RunAsync(CancellationToken stopping, CancellationToken abandon = default)
    {
        using var askedToStop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        _askedToStop = askedToStop;
        stopping = askedToStop.Token;
        _stopping = stopping;
        using var presenceEnd = new CancellationTokenSource();
        await BeatAsync(CancellationToken.None).ConfigureAwait(false);
        await WarnOfTwinsAsync().ConfigureAwait(false);
        var presence = Task.Run(() => PresenceAsync(presenceEnd.Token), CancellationToken.None);
        try
        {
            var slots = new Task[_options.Concurrency];
            for (var i = 0; i < slots.Length; i++)
            {
                slots[i] = Task.Run(() => SlotAsync(stopping, abandon), CancellationToken.None);
            }

            await Task.WhenAll(slots).ConfigureAwait(false);
        }
        finally
        {
            await presenceEnd.CancelAsync().ConfigureAwait(false);
            await presence.ConfigureAwait(false);
            try
            {
                await _queue.RemoveWorkerAsync(_id, CancellationToken.None).ConfigureAwait(false);
            }
            catch (StoreException)
            {
                // Left in the list, it reads as missing once its lease has passed, and is forgotten a day later.
            }
        }
    }

    /// <summary>How often a worker renews its row in the store's list of workers: a third of its lease, at most every 5 seconds.</summary>
    private TimeSpan PresenceInterval => TimeSpan.FromTicks(Math.Min(_options.Lease.Ticks / 3, TimeSpan.FromSeconds(5).Ticks));

    /// <summary>Keeps this worker in the store's list (last seen, chunks recorded) until <paramref name="end"/>.</summary>
    private async Task PresenceAsync(CancellationToken end)
    {
        while (!end.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(PresenceInterval, _time, end).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await BeatAsync(end).ConfigureAwait(false);
        }
    }

    /// <summary>Reports another running worker with this worker's name (claims carry the name, so the list would mix them up).</summary>
    private async Task WarnOfTwinsAsync()
    {
        try
        {
            foreach (var twin in (await _queue.ListWorkersAsync(CancellationToken.None).ConfigureAwait(false))
                .Where(w => w.Id != _id && w.State != WorkerState.Missing && string.Equals(w.Name, _identity.Name, StringComparison.Ordinal)))
            {
                Report(WorkerEventKind.NameInUse, null, $"another running worker is named '{twin.Name}' (host {twin.Host}, process {twin.ProcessId}); the list of workers counts their chunks together. Give each worker its own name (--name, -Name).");
            }
        }
        catch (StoreException)
        {
            // Only a warning: the worker works the same.
        }
    }

    private async Task BeatAsync(CancellationToken cancellationToken)
    {
        try
        {
            var presence = new WorkerPresence(_id, _identity, [.. _options.Kinds], _options.Concurrency, _options.Lease, Interlocked.Read(ref _recorded));
            if (await _queue.ReportWorkerAsync(presence, cancellationToken).ConfigureAwait(false) && _askedToStop is { IsCancellationRequested: false } asked)
            {
                Report(WorkerEventKind.StopAsked, null, _busy.IsEmpty
                    ? "asked to stop through the store; claiming nothing more."
                    : $"asked to stop through the store; claiming nothing more, finishing the chunks in hand (job(s) {string.Join(", ", _busy.Keys.Order(StringComparer.Ordinal))}).");
                await asked.CancelAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (StoreException error)
        {
            // Not fatal: the worker's claims keep their own heartbeat; the list catches up at the next beat.
            Report(WorkerEventKind.StoreError, null, error.Message);
        }
    }

    private async Task SlotAsync(CancellationToken stopping, CancellationToken abandon)
    {
        while (!stopping.IsCancellationRequested)
        {
            ChunkClaim? claim;
            try
            {
                claim = await _queue.ClaimAsync(_identity, _options.Kinds, [.. _busy.Keys], _options.Lease, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (StoreException error)
            {
                Report(WorkerEventKind.StoreError, null, error.Message);
                claim = null;
            }

            if (claim is null)
            {
                if (await SweepAsync(stopping).ConfigureAwait(false))
                {
                    // A stage opened (or a job ended): look for work again at once.
                    continue;
                }

                if (_options.ExitWhenIdle)
                {
                    return;
                }

                try
                {
                    await Task.Delay(_options.PollInterval, _time, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            if (!_busy.TryAdd(claim.JobId, 0))
            {
                // Another slot of this worker took the same job meanwhile: one slot per job in a worker.
                await _queue.ReleaseAsync(claim, CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            try
            {
                await RunClaimAsync(claim, stopping, abandon).ConfigureAwait(false);
            }
            catch (Exception error) when (error is StoreException or InvalidOperationException or ArgumentException)
            {
                Report(WorkerEventKind.StoreError, claim.JobId, error.Message);
                await ReleaseQuietlyAsync(claim).ConfigureAwait(false);
            }
            finally
            {
                _busy.TryRemove(claim.JobId, out _);
            }
        }
    }

    /// <summary>
    /// Runs a job's chunks one after another from its first claim, for as long as the job has chunks to
    /// claim: a pipeline in which the next chunk is claimed and read while one runs its last items (or
    /// before it runs, when chunks run fast enough for the round trips to matter) and a finished chunk is
    /// recorded while the next runs. The chunks' items share ThrottleLimit slots, so the job's ThrottleLimit
    /// holds per worker; one heartbeat keeps every claim held.
    /// </summary>
    private async Task RunClaimAsync(ChunkClaim claim, CancellationToken stopping, CancellationToken abandon)
    {
        var job = await JobAsync(claim.JobId).ConfigureAwait(false);
        var handler = _handlers(job);
        using var log = JobLog.Open(_options.LogFolder, job.Id, _time);
        using var telemetry = BatchTelemetry.StartJobRun(job.Id, job.Name, job.OperationKind, "Worker");
        using var run = new JobRun(this, job, handler, log);
        using var heartbeatEnd = new CancellationTokenSource();
        var heartbeat = Task.Run(() => run.HeartbeatAsync(heartbeatEnd.Token), CancellationToken.None);
        try
        {
            // A staged job goes on with the stages its last chunks opened, while this slot has it in hand.
            ChunkClaim? first = claim;
            do
            {
                await run.RunAsync(first, stopping, abandon).ConfigureAwait(false);
                first = null;
            }
            while (job.Stages is not null && !run.Stopping && !stopping.IsCancellationRequested && !abandon.IsCancellationRequested
                && await AdvanceAsync(job, log).ConfigureAwait(false));
        }
        finally
        {
            await heartbeatEnd.CancelAsync().ConfigureAwait(false);
            await heartbeat.ConfigureAwait(false);
        }

        if (CanEnd(job))
        {
            await FinishAsync(job, log).ConfigureAwait(false);
        }
    }

    /// <summary>A job's definition, read at its first chunk only: it never changes once stored.</summary>
    private async Task<JobRecord> JobAsync(string jobId)
    {
        if (!_jobs.TryGetValue(jobId, out var job))
        {
            job = await _store.GetJobAsync(jobId, CancellationToken.None).ConfigureAwait(false)
                ?? throw new StoreException($"Job {jobId} was removed while queued.");
            _jobs[jobId] = job;
        }

        return job;
    }

    /// <summary>Opens or skips the stages whose dependencies' chunks are all recorded; true when a stage opened.</summary>
    private async Task<bool> AdvanceAsync(JobRecord job, JobLog log)
    {
        IReadOnlyList<StageChange> changes;
        try
        {
            changes = await _queue.AdvanceStagesAsync(job.Id, CancellationToken.None).ConfigureAwait(false);
        }
        catch (StoreException error)
        {
            Report(WorkerEventKind.StoreError, job.Id, error.Message);
            return false;
        }

        foreach (var change in changes)
        {
            log.Info($"worker {_identity.Name}: {change.Message}");
            Report(change.Opened ? WorkerEventKind.StageOpened : WorkerEventKind.StageSkipped, job.Id, $"'{job.Name}': {change.Message}");
        }

        return changes.Any(c => c.Opened);
    }

    /// <summary>Ends the job (or rolls it back) when nothing of it is left to claim or held; true when this call did.</summary>
    private async Task<bool> FinishAsync(JobRecord job, JobLog log)
    {
        if (await _queue.TryFinishAsync(job.Id, CancellationToken.None).ConfigureAwait(false) is not { } ended)
        {
            return false;
        }

        if (ended.RollingBack)
        {
            log.Info($"worker {_identity.Name}: {ended.Message} Compensating here.");
            await RollBackAsync(ended).ConfigureAwait(false);
            return true;
        }

        log.EndQueued(ended);
        BatchTelemetry.JobEnded(ended.Name, ended.OperationKind, ended.Status);
        Report(WorkerEventKind.JobEnded, job.Id, $"'{ended.Name}' {ended.Status}: {ended.Counts.Succeeded} succeeded, {ended.Counts.Failed} failed, {ended.Counts.Unfinished} not run" + (ended.Message is null ? string.Empty : $" ({ended.Message})"));
        await NotifyAsync(job, log).ConfigureAwait(false);
        return true;
    }

    /// <summary>Sends the notices of a job this worker ended (as the store recorded its end); a failure is reported, never thrown.</summary>
    private async Task NotifyAsync(JobRecord job, JobLog log)
    {
        if (job.Notify is not { Count: > 0 } targets || !CanRun(job) || _handlers(job).Notifier is not { } notifier)
        {
            return;
        }

        try
        {
            var ended = await _store.GetJobAsync(job.Id, CancellationToken.None).ConfigureAwait(false);
            foreach (var notice in ended is null ? [] : await notifier.NotifyAsync(_store, ended, CancellationToken.None).ConfigureAwait(false))
            {
                var line = Notifications.Notices.Describe(targets[notice.Target], notice);
                log.Info($"worker {_identity.Name}: {line}");
                Report(notice.Status == Notifications.NoticeStatus.Sent ? WorkerEventKind.NoticeSent : WorkerEventKind.NoticeFailed, job.Id, $"'{job.Name}': {line}");
            }
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            Report(WorkerEventKind.NoticeFailed, job.Id, $"'{job.Name}': notices not sent: {error.Message}");
        }
    }

    /// <summary>
    /// Whether this worker may end the job: ending a job that rolls back on failure may start its rollback,
    /// which runs in the worker that ends it and needs every stage's undo. A worker that does not run every
    /// undo kind (a batchops worker and a job with a script-block undo) leaves the job to one that does: the
    /// job stays queued with nothing to claim, and that worker's sweep ends it.
    /// </summary>
    private bool CanEnd(JobRecord job) =>
        job.Settings.OnFailure != FailureAction.Rollback ||
        (CanRun(job) && WaitingWork.UndoKinds(job).All(k => _options.Kinds.Contains(k, StringComparer.Ordinal)));

    /// <summary>Whether this worker can build the job's operations (its kinds, its front end).</summary>
    private bool CanRun(JobRecord job)
    {
        try
        {
            _ = _handlers(job);
            return true;
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// Compensates a queued job that ended needing a rollback, here, as a resume would (one process under a
    /// lease: the job's undo throttle, stages in reverse order). A worker asked to stop stops it gracefully;
    /// whatever is left is compensated by a resume of the job.
    /// </summary>
    private async Task RollBackAsync(JobRecord job)
    {
        using var stop = new BatchStopSource();
        using var onStop = _stopping.Register(() => stop.Stop(StopMode.Graceful));
        try
        {
            var result = await _handlers(job).ResumeAsync(_store, job.Id, _options.LogFolder, _time, stop).ConfigureAwait(false);
            Report(WorkerEventKind.JobEnded, job.Id, $"'{job.Name}' {result.Job.Status}" + (result.Job.Message is null ? string.Empty : $" ({result.Job.Message})"));
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            // The operation could not be built here (another front end's kind, a definition that no longer fits).
            Report(WorkerEventKind.StoreError, job.Id, $"'{job.Name}' could not be rolled back here ({error.Message}); resume it to compensate its items: batchops resume {job.Id}, or Invoke-BatchJob -Id {job.Id}.");
        }
    }

    /// <summary>
    /// What an idle slot does: moves on the queued jobs that no worker holds or can claim a chunk of (stages
    /// waiting to open, or a job whose last worker ended or died before ending it). True when a stage opened
    /// or a job ended.
    /// </summary>
    private async Task<bool> SweepAsync(CancellationToken stopping)
    {
        IReadOnlyList<string> stalled;
        try
        {
            stalled = await _queue.StalledJobsAsync(stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return false;
        }
        catch (StoreException error)
        {
            Report(WorkerEventKind.StoreError, null, error.Message);
            return false;
        }

        var moved = false;
        foreach (var jobId in stalled)
        {
            if (stopping.IsCancellationRequested || !_busy.TryAdd(jobId, 0))
            {
                continue;
            }

            try
            {
                var job = await JobAsync(jobId).ConfigureAwait(false);
                if (!CanEnd(job))
                {
                    continue;
                }

                using var log = JobLog.Open(_options.LogFolder, job.Id, _time);
                moved |= job.Stages is not null && await AdvanceAsync(job, log).ConfigureAwait(false);
                moved |= await FinishAsync(job, log).ConfigureAwait(false);
            }
            catch (StoreException error)
            {
                Report(WorkerEventKind.StoreError, jobId, error.Message);
            }
            finally
            {
                _busy.TryRemove(jobId, out _);
            }
        }

        await SendOwedNoticesAsync(stopping).ConfigureAwait(false);
        return moved;
    }

    /// <summary>How often an idle worker looks for notices that job ends still owe (their sender died).</summary>
    private static readonly TimeSpan OwedNoticesInterval = TimeSpan.FromMinutes(1);

    private long _owedNoticesAt = long.MinValue;

    /// <summary>
    /// At most once a minute: sends the notices of ended jobs whose sender died before recording them (the
    /// store's claim has run out), for the jobs this worker can build. Each is claimed first, so two workers
    /// never send the same one.
    /// </summary>
    private async Task SendOwedNoticesAsync(CancellationToken stopping)
    {
        var now = _time.GetTimestamp();
        var last = Interlocked.Read(ref _owedNoticesAt);
        if ((last != long.MinValue && _time.GetElapsedTime(last, now) < OwedNoticesInterval) || Interlocked.CompareExchange(ref _owedNoticesAt, now, last) != last)
        {
            return;
        }

        try
        {
            foreach (var jobId in await _store.JobsWithNoticesDueAsync(failed: false, stopping).ConfigureAwait(false))
            {
                if (stopping.IsCancellationRequested)
                {
                    return;
                }

                if (await _store.GetJobAsync(jobId, stopping).ConfigureAwait(false) is { Notify: not null } job && CanRun(job))
                {
                    using var log = JobLog.Open(_options.LogFolder, job.Id, _time);
                    await NotifyAsync(job, log).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (StoreException error)
        {
            Report(WorkerEventKind.StoreError, null, error.Message);
        }
    }

    private async Task ReleaseQuietlyAsync(ChunkClaim claim)
    {
        try
        {
            await _queue.ReleaseAsync(claim, CancellationToken.None).ConfigureAwait(false);
        }
        catch (StoreException)
        {
            // The lease expires by itself.
        }
    }

    private void Report(WorkerEventKind kind, string? jobId, string message) =>
        Reported?.Invoke(new WorkerEvent(kind, jobId, message, _time.GetUtcNow()));
}
