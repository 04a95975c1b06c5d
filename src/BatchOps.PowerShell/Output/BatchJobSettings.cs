#pragma warning disable IDE0130 // Users type the short namespace: [BatchOps.BatchJobSettings].
namespace BatchOps;
#pragma warning restore IDE0130

/// <summary>
/// A job's stored settings, named like the parameters that set them. An empty value means the built-in
/// default (or the settings file's) applies.
/// </summary>
public sealed class BatchJobSettings
{
    /// <summary>Items per chunk (the unit of checkpoints and of -ChunkScriptBlock calls).</summary>
    public int? ChunkSize { get; init; }

    /// <summary>Items (or chunks) run at once.</summary>
    public int? ThrottleLimit { get; init; }

    /// <summary>Retries after the first attempt.</summary>
    public int? RetryCount { get; init; }

    /// <summary>Base delay before the first retry.</summary>
    public TimeSpan? RetryDelay { get; init; }

    /// <summary>Longest wait between two attempts, a Retry-After included.</summary>
    public TimeSpan? MaxRetryDelay { get; init; }

    /// <summary>Error types that are retried, and only those (-RetryOn given as names).</summary>
    public string[]? RetryOn { get; init; }

    /// <summary>Error types that are never retried (-NoRetryOn given as names).</summary>
    public string[]? NoRetryOn { get; init; }

    /// <summary>Time one attempt may take, in seconds.</summary>
    public double? TimeoutSeconds { get; init; }

    /// <summary>Time the whole run may take, in seconds.</summary>
    public double? JobTimeoutSeconds { get; init; }

    /// <summary>Most operations started per second.</summary>
    public double? RateLimit { get; init; }

    /// <summary>Whether the job stops at the first failure.</summary>
    public bool? StopOnError { get; init; }

    /// <summary>Failures after which the job stops.</summary>
    public int? MaxErrors { get; init; }

    /// <summary>Whether results are output in input order.</summary>
    public bool? PreserveOrder { get; init; }

    /// <summary>Which outputs the store keeps: All, Failed or None (-KeepOutput); null is All.</summary>
    public string? KeepOutput { get; init; }

    /// <inheritdoc/>
    public override string ToString()
    {
        var set = new[]
        {
            (nameof(ChunkSize), (object?)ChunkSize), (nameof(ThrottleLimit), ThrottleLimit), (nameof(RetryCount), RetryCount),
            (nameof(RetryDelay), RetryDelay), (nameof(MaxRetryDelay), MaxRetryDelay),
            (nameof(RetryOn), RetryOn is null ? null : string.Join('|', RetryOn)), (nameof(NoRetryOn), NoRetryOn is null ? null : string.Join('|', NoRetryOn)),
            (nameof(TimeoutSeconds), TimeoutSeconds), (nameof(JobTimeoutSeconds), JobTimeoutSeconds),
            (nameof(RateLimit), RateLimit), (nameof(StopOnError), StopOnError), (nameof(MaxErrors), MaxErrors), (nameof(PreserveOrder), PreserveOrder), (nameof(KeepOutput), KeepOutput),
        }.Where(p => p.Item2 is not null).Select(p => $"{p.Item1}={p.Item2}").ToList();
        return set.Count == 0 ? "defaults" : string.Join(", ", set);
    }
}
