namespace BatchOps.Engine.Execution;

/// <summary>
/// How a batch runs. Every value has a documented default; <see cref="Validate"/> rejects an
/// out-of-range value before any item runs, naming the setting and its valid range.
/// </summary>
public sealed class BatchOptions
{
    /// <summary>Largest accepted <see cref="ThrottleLimit"/>.</summary>
    public const int MaxThrottleLimit = 1024;

    /// <summary>Largest accepted <see cref="ChunkSize"/>.</summary>
    public const int MaxChunkSize = 100_000;

    /// <summary>Largest accepted <see cref="RetryCount"/>.</summary>
    public const int MaxRetryCount = 100;

    /// <summary>Shortest accepted per-attempt timeout (Polly's own lower bound).</summary>
    public static readonly TimeSpan MinTimeout = TimeSpan.FromMilliseconds(10);

    /// <summary>Longest accepted timeout, per attempt or per job.</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromDays(1);

    /// <summary>
    /// Items per chunk: the unit of bulk calls, of store checkpoints (one transaction per chunk) and of
    /// progress grouping. The default is 100; valid range 1 to 100,000.
    /// </summary>
    public int ChunkSize { get; set; } = 100;

    /// <summary>
    /// How many operations run at once: items for per-item operations, chunks for bulk ones.
    /// 1 runs items one after another in input order. The default is 5, as for ForEach-Object -Parallel;
    /// valid range 1 to 1024.
    /// </summary>
    public int ThrottleLimit { get; set; } = 5;

    /// <summary>
    /// Start a new chunk while finished ones are still being recorded: one chunk beyond ThrottleLimit is in
    /// flight, so the store's transactions overlap the work. False keeps at most ThrottleLimit chunks
    /// unrecorded at any moment, so a crash runs again only the chunks that were running; undo uses it,
    /// where a compensation run twice costs more than the wait. The default is true.
    /// </summary>
    public bool OverlapCheckpoints { get; set; } = true;

    /// <summary>
    /// Report results in input order even when items run in parallel. Results that finish early wait in a
    /// buffer bounded by the chunks in flight. The default is false: results are reported as they finish.
    /// </summary>
    public bool PreserveOrder { get; set; }

    /// <summary>
    /// Retries after a retryable failure, in addition to the first attempt. The default is 0; valid range 0 to 100.
    /// </summary>
    public int RetryCount { get; set; }

    /// <summary>
    /// Base delay before the first retry; later retries back off exponentially (with jitter unless
    /// <see cref="UseJitter"/> is false). The default is 1 second; valid range 0 to 1 day.
    /// </summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Upper bound of one backoff delay. The default is 60 seconds. A Retry-After hint is honoured even when longer.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Spread retry delays randomly so parallel items do not retry in lockstep. The default is true.</summary>
    public bool UseJitter { get; set; } = true;

    /// <summary>
    /// Time one attempt may take before it is cancelled and counted as a retryable failure.
    /// The default is null (no limit); valid range 10 ms to 1 day.
    /// </summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>
    /// Time the whole run may take; when it elapses running attempts are cancelled and the job ends Failed.
    /// The default is null (no limit); valid range 10 ms to 1 day.
    /// </summary>
    public TimeSpan? JobTimeout { get; set; }

    /// <summary>
    /// Most operation attempts started per second across all workers (a bulk call counts once).
    /// The default is null (no limit); valid range greater than 0 up to 1,000,000.
    /// </summary>
    public double? RateLimit { get; set; }

    /// <summary>
    /// Waits before each operation attempt starts, instead of the run's own <see cref="RateLimit"/>: a limit
    /// shared with other processes (workers of one job on several hosts). The default is null.
    /// </summary>
    public IStartGate? StartGate { get; set; }

    /// <summary>Slots this run's items share with other runs (null: ThrottleLimit alone bounds them); per-item operations only.</summary>
    internal IItemSlots? ItemSlots { get; set; }

    /// <summary>Stop after the first failed item: nothing new starts, running items finish, the rest are Skipped. The default is false.</summary>
    public bool StopOnError { get; set; }

    /// <summary>Stop once this many items have failed. The default is null (never); valid range 1 and up.</summary>
    public int? MaxErrors { get; set; }

    /// <summary>
    /// Decides whether an error is worth retrying. The default, <see cref="RetryClassifier.IsRetryable"/>,
    /// retries everything except errors that cannot heal by themselves (bad arguments, missing
    /// permissions) and those an operation marks non-retryable.
    /// </summary>
    public Func<Exception, bool>? IsRetryable { get; set; }

    /// <summary>Number of items when known in advance, for percent and ETA. The default is null (detected from collections).</summary>
    public long? TotalCount { get; set; }

    /// <summary>Least time between two progress snapshots. The default is 250 ms; valid range 10 ms to 1 minute.</summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The bounded tags of the run's metrics and spans: the job's name and operation kind
    /// (<see cref="Diagnostics.BatchTelemetry"/>); <see cref="Diagnostics.RunTags.None"/> when not set.
    /// </summary>
    public Diagnostics.RunTags? Tags { get; set; }

    /// <summary>Source of time for delays, timeouts, rate limits and timestamps. The default is <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Checks every setting and throws <see cref="ArgumentOutOfRangeException"/> naming the first bad one and its valid range.</summary>
    public void Validate()
    {
        Require(ChunkSize is >= 1 and <= MaxChunkSize, nameof(ChunkSize), ChunkSize, $"1 to {MaxChunkSize:N0}");
        Require(ThrottleLimit is >= 1 and <= MaxThrottleLimit, nameof(ThrottleLimit), ThrottleLimit, $"1 to {MaxThrottleLimit}");
        Require(RetryCount is >= 0 and <= MaxRetryCount, nameof(RetryCount), RetryCount, $"0 to {MaxRetryCount}");
        Require(RetryDelay >= TimeSpan.Zero && RetryDelay <= MaxTimeout, nameof(RetryDelay), RetryDelay, "0 to 1 day");
        Require(MaxRetryDelay > TimeSpan.Zero && MaxRetryDelay <= MaxTimeout, nameof(MaxRetryDelay), MaxRetryDelay, "greater than 0 up to 1 day");
        Require(Timeout is null || (Timeout >= MinTimeout && Timeout <= MaxTimeout), nameof(Timeout), Timeout, "10 ms to 1 day, or none");
        Require(JobTimeout is null || (JobTimeout >= MinTimeout && JobTimeout <= MaxTimeout), nameof(JobTimeout), JobTimeout, "10 ms to 1 day, or none");
        Require(RateLimit is null || (RateLimit > 0 && RateLimit <= 1_000_000 && double.IsFinite(RateLimit.Value)), nameof(RateLimit), RateLimit, "greater than 0 up to 1,000,000 per second, or none");
        Require(MaxErrors is null or >= 1, nameof(MaxErrors), MaxErrors, "1 or more, or none");
        Require(TotalCount is null or >= 0, nameof(TotalCount), TotalCount, "0 or more, or none");
        Require(ProgressInterval >= MinTimeout && ProgressInterval <= TimeSpan.FromMinutes(1), nameof(ProgressInterval), ProgressInterval, "10 ms to 1 minute");
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
    }

    /// <summary>Returns a copy, so a run is not affected by later changes to this instance.</summary>
    public BatchOptions Clone() => (BatchOptions)MemberwiseClone();

    private static void Require(bool valid, string setting, object? value, string range)
    {
        if (!valid)
        {
            throw new ArgumentOutOfRangeException(setting, value, $"{setting} {value} is out of range: use {range}.");
        }
    }
}
