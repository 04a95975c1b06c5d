using System.Diagnostics;
using BatchOps.Engine.Diagnostics;
using Polly;

namespace BatchOps.Engine.Execution;

/// <summary>
/// The run's counts as metrics observe them, and its spans: one per chunk (a child of the span the run started under, a job run's), and one per
/// item attempt (a child of its chunk's), current while the operation runs, so an http request carries
/// its W3C traceparent and an exec child gets TRACEPARENT. None is made unless something listens.
/// </summary>
internal sealed partial class BatchRun<TIn, TOut> : BatchTelemetry.IRunCounts
{
    /// <summary>Attempts after an item's first, across the run (counted only when retries are configured).</summary>
    private long _retries;

    long BatchTelemetry.IRunCounts.Running => _progress.Running;

    long BatchTelemetry.IRunCounts.Retries => Interlocked.Read(ref _retries);

    long BatchTelemetry.IRunCounts.Ended(Jobs.ItemStatus status) => status switch
    {
        Jobs.ItemStatus.Succeeded => _progress.Succeeded,
        Jobs.ItemStatus.Failed => _progress.Failed,
        Jobs.ItemStatus.Skipped => _progress.Skipped,
        Jobs.ItemStatus.Cancelled => _progress.Cancelled,
        _ => 0,
    };

    private Activity? StartChunkActivity(Chunk<TIn, TOut> chunk)
    {
        if (!BatchTelemetry.Source.HasListeners())
        {
            return null;
        }

        // Started without becoming the producer's current span: the next chunk is its sibling, not its child.
        var current = Activity.Current;
        var activity = BatchTelemetry.Source.StartActivity(BatchTelemetry.ChunkSpan, ActivityKind.Internal, _parentSpan ?? default);
        Activity.Current = current;
        if (activity is not null)
        {
            activity.SetTag(BatchTelemetry.JobNameTag, _tags.JobName);
            activity.SetTag(BatchTelemetry.KindTag, _tags.Kind);
            activity.SetTag("batchops.chunk.sequence", chunk.Sequence);
            activity.SetTag("batchops.chunk.items", chunk.Items.Length);
            if (chunk.Items.Length > 0)
            {
                activity.SetTag("batchops.chunk.first_index", chunk.Items[0].Index);
            }
        }

        return activity;
    }

    private static void StopChunkActivity(Chunk<TIn, TOut> chunk)
    {
        if (chunk.Activity is not { } activity)
        {
            return;
        }

        var failed = 0;
        foreach (var result in chunk.Results)
        {
            failed += result.Status == Jobs.ItemStatus.Failed ? 1 : 0;
        }

        activity.SetTag("batchops.chunk.failed", failed);
        var current = Activity.Current;
        activity.Stop();
        Activity.Current = current;
        chunk.Activity = null;
    }

    /// <summary>Starts an item attempt's span (current from here on in this flow); null when nothing listens.</summary>
    private Activity? StartAttempt(WorkItem<TIn, TOut> work, int attempt)
    {
        if (!BatchTelemetry.Source.HasListeners())
        {
            return null;
        }

        var parent = work.Chunk.Activity?.Context ?? _parentSpan ?? default;
        var activity = BatchTelemetry.Source.StartActivity(BatchTelemetry.ItemSpan, ActivityKind.Internal, parent);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(BatchTelemetry.JobNameTag, _tags.JobName);
            activity.SetTag(BatchTelemetry.KindTag, _tags.Kind);
            activity.SetTag("batchops.item.index", work.Item.Index);
            activity.SetTag("batchops.item.attempt", attempt);
            activity.SetTag("batchops.item.retry", attempt - 1);
            if (work.Item.Key is { } key)
            {
                activity.SetTag("batchops.item.key", key);
            }
        }

        return activity;
    }

    /// <summary>Ends an attempt's span with its outcome: the status, and the error type of a failure.</summary>
    private static void EndAttempt(Activity? activity, Outcome<TOut> outcome)
    {
        if (activity is null)
        {
            return;
        }

        if (outcome.Exception is { } error)
        {
            activity.SetStatus(ActivityStatusCode.Error, error.Message);
            activity.SetTag("error.type", error.GetType().FullName);
            activity.SetTag(BatchTelemetry.StatusTag, error is OperationCanceledException ? "Cancelled" : "Failed");
        }
        else
        {
            activity.SetTag(BatchTelemetry.StatusTag, "Succeeded");
        }

        activity.Stop();
    }

    /// <summary>Waits for the rate limit's slot; a wait that was felt is counted and measured.</summary>
    private async ValueTask WaitForSlotAsync(IStartGate gate, CancellationToken cancellationToken)
    {
        if (!BatchTelemetry.RateLimitWaits.Enabled && !BatchTelemetry.RateLimitWait.Enabled)
        {
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        var before = _time.GetTimestamp();
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        var waited = _time.GetElapsedTime(before);
        if (waited >= TimeSpan.FromMilliseconds(1))
        {
            var tags = BatchTelemetry.Tags(_tags);
            BatchTelemetry.RateLimitWaits.Add(1, tags);
            BatchTelemetry.RateLimitWait.Record(waited.TotalSeconds, tags);
        }
    }
}
