using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

namespace BatchOps.Engine.Workers;

/// <summary>
/// How a worker runs the chunks of one stored job: the front end's operation and codecs for the job's
/// kind, as it builds them for a resume (<see cref="JobRunRequest{TIn, TOut}"/>), without its types.
/// </summary>
public abstract class QueuedJobHandler
{
    private protected QueuedJobHandler()
    {
    }

    /// <summary>A handler over a stored job's run request (its <see cref="JobRunRequest{TIn, TOut}.Operation"/> and codecs).</summary>
    public static QueuedJobHandler Create<TIn, TOut>(JobRunRequest<TIn, TOut> request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new Typed<TIn, TOut>(request);
    }

    /// <summary>
    /// Runs the stored items of one claimed range with the operation of <paramref name="stage"/> (the job's
    /// own for null) and hands their outcomes (one checkpoint, outputs as <paramref name="keep"/> says) to <paramref name="record"/>.
    /// </summary>
    internal abstract Task<JobSummary> RunAsync(
        JobStage? stage,
        IAsyncEnumerable<StoredItem> items,
        BatchOptions options,
        OutputKeeping keep,
        BatchStopSource stop,
        Func<IReadOnlyList<ItemOutcome>, ValueTask> record,
        Action<long, string?, ItemError> onFailure,
        CancellationToken cancellationToken);

    /// <summary>
    /// Runs the stored job as a resume under a lease of this process (what a job marked rolling back does:
    /// compensate its succeeded items with the stage's undo operation), stopped gracefully by <paramref name="stop"/>.
    /// </summary>
    internal abstract Task<JobRunResult> ResumeAsync(IJobStore store, string jobId, string? logFolder, TimeProvider time, BatchStopSource stop);

    /// <summary>What sends the job's notices (its run request's), when the worker ends the job.</summary>
    internal abstract Notifications.IJobNotifier? Notifier { get; }

    private sealed class Typed<TIn, TOut>(JobRunRequest<TIn, TOut> request) : QueuedJobHandler
    {
        internal override Notifications.IJobNotifier? Notifier => request.Notifier;

        internal override Task<JobRunResult> ResumeAsync(IJobStore store, string jobId, string? logFolder, TimeProvider time, BatchStopSource stop) =>
            new JobRunner(store, logFolder, time).RunAsync(jobId, request with { Kind = RunKind.Resume, Stop = stop });

        /// <summary>Each stage's operation, built at its first chunk and used for the rest.</summary>
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, BatchOperation<TIn, TOut>> _stages = new(StringComparer.OrdinalIgnoreCase);

        internal override Task<JobSummary> RunAsync(
            JobStage? stage,
            IAsyncEnumerable<StoredItem> items,
            BatchOptions options,
            OutputKeeping keep,
            BatchStopSource stop,
            Func<IReadOnlyList<ItemOutcome>, ValueTask> record,
            Action<long, string?, ItemError> onFailure,
            CancellationToken cancellationToken)
        {
            var operation = stage is null
                ? request.Operation ?? throw new InvalidOperationException("A queued job's run request needs its Operation.")
                : _stages.GetOrAdd(stage.Name, _ => request.OperationFor(stage));
            var observer = new Recorder(request, record, onFailure, keep);
            return BatchExecutor.RunAsync(Decode(items, cancellationToken), operation, options, observer, stop, cancellationToken);
        }

        private async IAsyncEnumerable<BatchItem<TIn>> Decode(IAsyncEnumerable<StoredItem> items, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await foreach (var item in items.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                yield return new BatchItem<TIn>(item.Index, request.InputCodec.Deserialize(item.Input), item.Key);
            }
        }

        private sealed class Recorder(JobRunRequest<TIn, TOut> request, Func<IReadOnlyList<ItemOutcome>, ValueTask> record, Action<long, string?, ItemError> onFailure, OutputKeeping keep)
            : BatchObserver<TIn, TOut>
        {
            private readonly RetryLog _retries = new(keep);

            public override void OnItemCompleted(ItemResult<TIn, TOut> result)
            {
                if (result.Status == ItemStatus.Failed && result.Error is not null)
                {
                    onFailure(result.Index, result.Key, result.Error);
                }

                request.Observer?.OnItemCompleted(result);
            }

            public override async ValueTask OnChunkCompletedAsync(long chunk, IReadOnlyList<ItemResult<TIn, TOut>> results)
            {
                await record(_retries.Outcomes(results, request.OutputCodec)).ConfigureAwait(false);
            }

            public override void OnRetry(RetryNotice notice)
            {
                _retries.Add(notice);
                request.Observer?.OnRetry(notice);
            }
        }
    }
}
