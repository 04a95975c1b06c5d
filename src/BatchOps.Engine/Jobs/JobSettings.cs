using System.Text.Json.Serialization;
using BatchOps.Engine.Execution;

namespace BatchOps.Engine.Jobs;

/// <summary>
/// The settings of a stored job, in the shape of the spec and settings files (every value optional, so
/// layers can be merged: explicit value &gt; job-name section &gt; default section &gt; built-in default).
/// </summary>
public sealed record JobSettings
{
    /// <summary>See <see cref="BatchOptions.ChunkSize"/>.</summary>
    public int? ChunkSize { get; init; }

    /// <summary>See <see cref="BatchOptions.ThrottleLimit"/>.</summary>
    public int? ThrottleLimit { get; init; }

    /// <summary>See <see cref="BatchOptions.RetryCount"/>.</summary>
    public int? RetryCount { get; init; }

    /// <summary>See <see cref="BatchOptions.RetryDelay"/>, in milliseconds.</summary>
    public int? RetryDelayMs { get; init; }

    /// <summary>See <see cref="BatchOptions.MaxRetryDelay"/>, in milliseconds: the longest wait between attempts, a Retry-After included.</summary>
    public int? MaxRetryDelayMs { get; init; }

    /// <summary>Error types that are retried, and only those (see <see cref="RetryRules"/>).</summary>
    public string[]? RetryOn { get; init; }

    /// <summary>Error types that are never retried (see <see cref="RetryRules"/>).</summary>
    public string[]? NoRetryOn { get; init; }

    /// <summary>See <see cref="BatchOptions.Timeout"/>, in seconds (fractions allowed).</summary>
    public double? TimeoutSeconds { get; init; }

    /// <summary>See <see cref="BatchOptions.JobTimeout"/>, in seconds.</summary>
    public double? JobTimeoutSeconds { get; init; }

    /// <summary>See <see cref="BatchOptions.RateLimit"/>.</summary>
    public double? RateLimit { get; init; }

    /// <summary>See <see cref="BatchOptions.StopOnError"/>.</summary>
    public bool? StopOnError { get; init; }

    /// <summary>See <see cref="BatchOptions.MaxErrors"/>.</summary>
    public int? MaxErrors { get; init; }

    /// <summary>See <see cref="BatchOptions.PreserveOrder"/>.</summary>
    public bool? PreserveOrder { get; init; }

    /// <summary>What the job does when it ends with failed items or is stopped by its error policy.</summary>
    public FailureAction? OnFailure { get; init; }

    /// <summary>Which items' outputs the store keeps (<see cref="OutputKeeping.All"/> when unset).</summary>
    public OutputKeeping? KeepOutput { get; init; }

    /// <summary>Takes each value from this instance when set, else from <paramref name="lower"/>.</summary>
    public JobSettings Over(JobSettings? lower) => lower is null ? this : new JobSettings
    {
        ChunkSize = ChunkSize ?? lower.ChunkSize,
        ThrottleLimit = ThrottleLimit ?? lower.ThrottleLimit,
        RetryCount = RetryCount ?? lower.RetryCount,
        RetryDelayMs = RetryDelayMs ?? lower.RetryDelayMs,
        MaxRetryDelayMs = MaxRetryDelayMs ?? lower.MaxRetryDelayMs,
        RetryOn = RetryOn ?? lower.RetryOn,
        NoRetryOn = NoRetryOn ?? lower.NoRetryOn,
        TimeoutSeconds = TimeoutSeconds ?? lower.TimeoutSeconds,
        JobTimeoutSeconds = JobTimeoutSeconds ?? lower.JobTimeoutSeconds,
        RateLimit = RateLimit ?? lower.RateLimit,
        StopOnError = StopOnError ?? lower.StopOnError,
        MaxErrors = MaxErrors ?? lower.MaxErrors,
        PreserveOrder = PreserveOrder ?? lower.PreserveOrder,
        OnFailure = OnFailure ?? lower.OnFailure,
        KeepOutput = KeepOutput ?? lower.KeepOutput,
    };

    /// <summary>Builds engine options: unset values keep the engine's built-in defaults. Validates them.</summary>
    public BatchOptions ToOptions(TimeProvider? time = null)
    {
        var options = new BatchOptions { TimeProvider = time ?? TimeProvider.System };
        if (ChunkSize is { } chunkSize) options.ChunkSize = chunkSize;
        if (ThrottleLimit is { } throttle) options.ThrottleLimit = throttle;
        if (RetryCount is { } retries) options.RetryCount = retries;
        if (RetryDelayMs is { } delay) options.RetryDelay = TimeSpan.FromMilliseconds(delay);
        if (MaxRetryDelayMs is { } maxDelay) options.MaxRetryDelay = TimeSpan.FromMilliseconds(maxDelay);
        if (RetryRules.Classifier(RetryOn, NoRetryOn) is { } rules) options.IsRetryable = rules;
        if (TimeoutSeconds is { } timeout) options.Timeout = SecondsOrInvalid(timeout);
        if (JobTimeoutSeconds is { } jobTimeout) options.JobTimeout = SecondsOrInvalid(jobTimeout);
        if (RateLimit is { } rate) options.RateLimit = rate;
        if (StopOnError is { } stop) options.StopOnError = stop;
        if (MaxErrors is { } maxErrors) options.MaxErrors = maxErrors;
        if (PreserveOrder is { } ordered) options.PreserveOrder = ordered;
        options.Validate();
        return options;
    }

    /// <summary>One line for logs: only the values that are set.</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        void Add(string name, object? value)
        {
            if (value is not null)
            {
                parts.Add($"{name}={value}");
            }
        }

        Add("chunkSize", ChunkSize);
        Add("throttleLimit", ThrottleLimit);
        Add("retryCount", RetryCount);
        Add("retryDelayMs", RetryDelayMs);
        Add("maxRetryDelayMs", MaxRetryDelayMs);
        Add("retryOn", RetryOn is null ? null : string.Join('|', RetryOn));
        Add("noRetryOn", NoRetryOn is null ? null : string.Join('|', NoRetryOn));
        Add("timeoutSeconds", TimeoutSeconds);
        Add("jobTimeoutSeconds", JobTimeoutSeconds);
        Add("rateLimit", RateLimit);
        Add("stopOnError", StopOnError);
        Add("maxErrors", MaxErrors);
        Add("preserveOrder", PreserveOrder);
        Add("onFailure", OnFailure);
        Add("keepOutput", KeepOutput);
        return parts.Count == 0 ? "defaults" : string.Join(", ", parts);
    }

    // Negative or zero seconds still reach BatchOptions.Validate, which names the setting and its range.
    private static TimeSpan SecondsOrInvalid(double seconds) =>
        double.IsFinite(seconds) && Math.Abs(seconds) < TimeSpan.MaxValue.TotalSeconds ? TimeSpan.FromSeconds(seconds) : TimeSpan.MinValue;

    /// <summary>Settings read from JSON with camelCase names.</summary>
    [JsonIgnore]
    public bool IsEmpty => this == new JobSettings();
}

/// <summary>
/// Which outputs of a job's items the store keeps. Outputs still reach the caller as items complete (the
/// pipeline, <c>batchops run</c>); this is what stays for later: Get-BatchItem, exports, the dashboard, undo.
/// </summary>
public enum OutputKeeping
{
    /// <summary>Every item's output (the default).</summary>
    All = 0,

    /// <summary>
    /// Only what failed items record (their errors and details); succeeded items keep their input, status and
    /// timing, not their output. For runs whose outputs are not needed later.
    /// </summary>
    Failed = 1,

    /// <summary>No outputs at all.</summary>
    None = 2,
}
