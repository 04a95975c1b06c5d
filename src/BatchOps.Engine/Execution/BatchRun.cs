using System.Diagnostics;
using System.Threading.Channels;
using BatchOps.Engine.Diagnostics;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Progress;
using Polly;

namespace BatchOps.Engine.Execution;

/// <summary>
/// One run of the engine. A producer reads the input into chunks and dispatches them; workers (as many as
/// the throttle) run items or chunks; a checkpoint loop hands finished chunks to the observer one at a time
/// and lets the producer read further, which bounds memory by the chunks in flight.
/// </summary>
internal sealed partial class BatchRun<TIn, TOut>
{
    private readonly IAsyncEnumerable<BatchItem<TIn>> _items;
    private readonly BatchOperation<TIn, TOut> _operation;
    private readonly BatchOptions _options;
    private readonly RunTags _tags;

    /// <summary>The span the run was started under (a job run's), parent of the chunks' spans.</summary>
    private ActivityContext? _parentSpan;
    private readonly BatchObserver<TIn, TOut>? _observer;
    private readonly BatchStopSource? _stop;
    private readonly CancellationToken _callerToken;
    private readonly TimeProvider _time;
    private readonly Func<Exception, bool> _isRetryable;
    private readonly ResiliencePipeline _pipeline;
    private readonly ProgressTracker _progress;
    private readonly OrderedResultBuffer<TIn, TOut>? _ordered;
    private readonly SemaphoreSlim _chunkSlots;
    private readonly Channel<Chunk<TIn, TOut>> _chunkQueue = Channel.CreateUnbounded<Chunk<TIn, TOut>>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly Channel<Chunk<TIn, TOut>> _checkpoints = Channel.CreateUnbounded<Chunk<TIn, TOut>>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Fires on any stop: wakes the producer, so nothing new is read.</summary>
    private readonly CancellationTokenSource _halt = new();

    /// <summary>Fires on a forced stop, the caller's token or the job timeout: cancels running attempts.</summary>
    private readonly CancellationTokenSource _forced = new();

    private readonly object _stopLock = new();
    private StopReason _stopReason;
    private string? _stopMessage;
    private Exception? _fault;
    private long _failures;
    private long _pulled;
    private int _progressBusy;
    private DateTimeOffset _startedAt;
    private long _startTimestamp;

    public BatchRun(
        IAsyncEnumerable<BatchItem<TIn>> items,
        BatchOperation<TIn, TOut> operation,
        BatchOptions options,
        BatchObserver<TIn, TOut>? observer,
        BatchStopSource? stop,
        CancellationToken callerToken)
    {
        _items = items;
        _operation = operation;
        _options = options;
        _tags = options.Tags ?? RunTags.None;
        _observer = observer;
        _stop = stop;
        _callerToken = callerToken;
        _time = options.TimeProvider;
        _isRetryable = options.IsRetryable ?? RetryClassifier.IsRetryable;
        _pipeline = ResiliencePipelineFactory.Create(options, ShouldRetry, OnRetry);
        _progress = new ProgressTracker(_time, options.TotalCount);
        _chunkSlots = new SemaphoreSlim(options.OverlapCheckpoints ? options.ThrottleLimit + 1 : options.ThrottleLimit);
        if (options.PreserveOrder && options.ThrottleLimit > 1)
        {
            _ordered = new OrderedResultBuffer<TIn, TOut>(Emit);
        }
    }

    private bool IsHalted => _halt.IsCancellationRequested;

    private CancellationToken ForcedToken => _forced.Token;

    public async Task<JobSummary> RunAsync()
    {
        var startedAt = _startedAt = _time.GetUtcNow();
        _startTimestamp = _time.GetTimestamp();
        _parentSpan = Activity.Current?.Context;
        using var counted = BatchTelemetry.Track(_tags, this);
        _rateGate = _options.StartGate ?? (_options.RateLimit is { } rate ? new RateGate(rate, _time) : null);
        using var jobTimeout = _options.JobTimeout is { } limit ? new CancellationTokenSource(limit, _time) : null;
        using var onJobTimeout = jobTimeout?.Token.Register(() => Halt(
            StopReason.JobTimeout, StopMode.Forced, $"The job exceeded its timeout of {_options.JobTimeout}; running items were cancelled. Raise JobTimeout or resume the job."));
        using var onCaller = _callerToken.Register(() => Halt(StopReason.Cancelled, StopMode.Forced, "The run was cancelled."));
        using var onStop = _stop?.StopRequested.Register(() => Halt(StopReason.Cancelled, StopMode.Graceful, "A stop was requested."));
        using var onForce = _stop?.ForceRequested.Register(() => Halt(StopReason.Cancelled, StopMode.Forced, "A forced stop was requested."));
        using var progressTimer = _observer is null ? null : _time.CreateTimer(static s => ((BatchRun<TIn, TOut>)s!).ReportProgress(), this, _options.ProgressInterval, _options.ProgressInterval);

        var producer = Task.Run(ProduceAsync);
        var workers = new Task[_options.ThrottleLimit];
        for (var i = 0; i < workers.Length; i++)
        {
            workers[i] = _operation.IsBulk ? Task.Run(ChunkWorkerAsync) : Task.Run(ItemWorkerAsync);
        }

        var checkpoints = Task.Run(CheckpointLoopAsync);
        await producer.ConfigureAwait(false);
        await Task.WhenAll(workers).ConfigureAwait(false);
        _checkpoints.Writer.Complete();
        await checkpoints.ConfigureAwait(false);

        if (progressTimer is not null)
        {
            await progressTimer.DisposeAsync().ConfigureAwait(false);
            SpinWait.SpinUntil(() => Volatile.Read(ref _progressBusy) == 0);
            Notify(o => o.OnProgress(_progress.Snapshot(isFinal: true)), "progress observer");
        }

        return BuildSummary(startedAt, _time.GetUtcNow());
    }

    /// <summary>Stops the run; the first reason wins, a later forced request still escalates.</summary>
    private void Halt(StopReason reason, StopMode mode, string message, Exception? fault = null)
    {
        lock (_stopLock)
        {
            if (_stopReason == StopReason.None)
            {
                _stopReason = reason;
                _stopMessage = message;
                _fault = fault;
            }
        }

        _halt.Cancel();
        if (mode == StopMode.Forced)
        {
            _forced.Cancel();
        }
    }

    /// <summary>Records a fault of the input, an observer or the store; running items still finish and are reported.</summary>
    private void Fault(Exception error, string message) => Halt(StopReason.Fault, StopMode.Graceful, message, error);

    private JobSummary BuildSummary(DateTimeOffset startedAt, DateTimeOffset endedAt)
    {
        StopReason reason;
        lock (_stopLock)
        {
            reason = _stopReason;
        }

        var succeeded = _progress.Succeeded;
        var failed = _progress.Failed;
        return new JobSummary
        {
            Status = JobSummary.StatusFor(reason, succeeded, failed),
            StopReason = reason,
            Total = Interlocked.Read(ref _pulled),
            Succeeded = succeeded,
            Failed = failed,
            Skipped = _progress.Skipped,
            Cancelled = _progress.Cancelled,
            StartedAt = startedAt,
            EndedAt = endedAt,
            Message = _stopMessage,
            Fault = _fault,
        };
    }
}
