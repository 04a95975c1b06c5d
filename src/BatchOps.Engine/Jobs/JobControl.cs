using BatchOps.Engine.Execution;
using BatchOps.Engine.Store;

namespace BatchOps.Engine.Jobs;

/// <summary>What a stop did to a job.</summary>
public enum StopOutcome
{
    /// <summary>The job runs in some process; a stop request was recorded for its owner, which stops within a heartbeat.</summary>
    Requested,

    /// <summary>The job was Pending or Interrupted and is now Cancelled (resumable).</summary>
    Cancelled,

    /// <summary>The job had already ended; nothing changed.</summary>
    NotRunning,
}

/// <summary>Stopping and waiting for stored jobs, the same way from every front end.</summary>
public static class JobControl
{
    /// <summary>Polling interval of <see cref="Wait"/>.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Stops a job wherever it runs: a running or queued job gets a stop request its owner (or every worker) polls; a Pending or
    /// Interrupted job is marked Cancelled directly; an ended job is left alone.
    /// </summary>
    public static async Task<StopOutcome> StopAsync(IJobStore store, JobRecord job, StopMode mode, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(job);
        switch (job.Status)
        {
            case JobStatus.Running or JobStatus.Queued:
                await store.RequestStopAsync(job.Id, mode, cancellationToken).ConfigureAwait(false);
                return StopOutcome.Requested;
            case JobStatus.Pending or JobStatus.Interrupted:
                await store.SetStatusAsync(job.Id, JobStatus.Cancelled, "Stopped before it ran to the end; resume it to run the rest.", cancellationToken).ConfigureAwait(false);
                return StopOutcome.Cancelled;
            default:
                return StopOutcome.NotRunning;
        }
    }

    /// <summary>
    /// Waits, blocking the calling thread, until a job is no longer Running or Queued (it ended, or its process died),
    /// calling <paramref name="onPoll"/> on the calling thread with each reading (a cmdlet writes progress
    /// there); returns the last reading, still Running when <paramref name="timeout"/> passed first or the
    /// wait was cancelled.
    /// </summary>
    public static JobRecord Wait(IJobStore store, JobRecord job, TimeSpan? timeout, Action<JobRecord>? onPoll = null, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(job);
        time ??= TimeProvider.System;
        var started = time.GetTimestamp();
        while (job.Status is JobStatus.Running or JobStatus.Queued && !cancellationToken.IsCancellationRequested)
        {
            onPoll?.Invoke(job);
            if (timeout is { } limit && time.GetElapsedTime(started) >= limit)
            {
                break;
            }

            try
            {
                Task.Delay(PollInterval, time, cancellationToken).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                break;
            }

            job = store.GetJobAsync(job.Id, CancellationToken.None).GetAwaiter().GetResult() ?? job;
        }

        return job;
    }

    /// <summary>
    /// Deletes a job with its items, history and log file; refuses (returns false) while it is running or
    /// still being created by a live process, so a live owner never loses its job under it. A job whose
    /// creation was cut short is removed.
    /// </summary>
    public static async Task<bool> RemoveAsync(IJobStore store, JobRecord job, string? logFolder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(job);
        if (job.Status == JobStatus.Running || (job.Status == JobStatus.Creating && job.Lease is { } creator && creator.IsAlive(TimeProvider.System.GetUtcNow())))
        {
            return false;
        }

        await store.RemoveJobAsync(job.Id, cancellationToken).ConfigureAwait(false);
        // A job that never ran (or a store whose logs were never written) has no log, nor perhaps a folder.
        if (logFolder is not null && Directory.Exists(logFolder))
        {
            File.Delete(Path.Combine(logFolder, $"{job.Id}.log"));
        }

        return true;
    }
}
