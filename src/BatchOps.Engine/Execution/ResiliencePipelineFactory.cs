using BatchOps.Engine.Jobs;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace BatchOps.Engine.Execution;

/// <summary>Builds the Polly pipeline of a run: retry (outer) around a per-attempt timeout (inner).</summary>
internal static class ResiliencePipelineFactory
{
    /// <summary>Index of the item (or first item of the segment) an execution is for, read by OnRetry.</summary>
    public static readonly ResiliencePropertyKey<long> ItemIndex = new("BatchOps.ItemIndex");

    /// <summary>Items carried by the execution (1 for per-item operations).</summary>
    public static readonly ResiliencePropertyKey<int> ItemCount = new("BatchOps.ItemCount");

    /// <summary>
    /// Returns <see cref="ResiliencePipeline.Empty"/> when there is nothing to add (no retries, no timeout),
    /// so the engine can take its direct path.
    /// </summary>
    public static ResiliencePipeline Create(
        BatchOptions options,
        Func<Exception, bool> shouldRetry,
        Action<RetryNotice> onRetry)
    {
        if (options.RetryCount == 0 && options.Timeout is null)
        {
            return ResiliencePipeline.Empty;
        }

        var builder = new ResiliencePipelineBuilder { TimeProvider = options.TimeProvider };
        if (options.RetryCount > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.RetryCount,
                Delay = options.RetryDelay,
                MaxDelay = options.MaxRetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = options.UseJitter,
                ShouldHandle = args => new ValueTask<bool>(args.Outcome.Exception is { } error && shouldRetry(error)),
                DelayGenerator = args => new ValueTask<TimeSpan?>(
                    args.Outcome.Exception is IFailureHints { RetryAfter: { } hint } ? Honoured(hint, options) : null),
                OnRetry = args =>
                {
                    var index = args.Context.Properties.GetValue(ItemIndex, -1);
                    var count = args.Context.Properties.GetValue(ItemCount, 1);
                    var error = ItemError.FromException(args.Outcome.Exception!, isRetryable: true);
                    onRetry(new RetryNotice(index, count, args.AttemptNumber + 1, args.RetryDelay, error, (args.Outcome.Exception as IFailureHints)?.StatusCode)
                    {
                        At = options.TimeProvider.GetUtcNow(),
                    });
                    return default;
                },
            });
        }

        if (options.Timeout is { } timeout)
        {
            builder.AddTimeout(new TimeoutStrategyOptions { Timeout = timeout });
        }

        return builder.Build();
    }

    /// <summary>
    /// The wait a Retry-After asked for, as far as the job allows: never longer than MaxRetryDelay, nor than
    /// the whole job may take (a server asking for an hour does not hold a job that has ten minutes).
    /// </summary>
    internal static TimeSpan Honoured(TimeSpan asked, BatchOptions options)
    {
        var wait = asked < TimeSpan.Zero ? TimeSpan.Zero : asked;
        wait = wait > options.MaxRetryDelay ? options.MaxRetryDelay : wait;
        return options.JobTimeout is { } job && wait > job ? job : wait;
    }
}
