#pragma warning disable IDE0130 // Users type the short namespace: [BatchOps.BatchItemError].
namespace BatchOps;
#pragma warning restore IDE0130

/// <summary>Why an item failed, as stored: it reads the same in the session that ran the item and in any later one.</summary>
public sealed class BatchItemError
{
    /// <summary>Full name of the exception type, for example System.TimeoutException.</summary>
    public string Type { get; init; } = string.Empty;

    /// <summary>The error's message.</summary>
    public string Message { get; init; } = string.Empty;

    /// <summary>Where the script failed (position and script stack trace), when known.</summary>
    public string? Detail { get; init; }

    /// <summary>Whether the error was classified as transient (and so retried).</summary>
    public bool IsRetryable { get; init; }

    /// <summary>The original exception; present only in the session that ran the item, never stored.</summary>
    [System.Management.Automation.Hidden]
    public Exception? Exception { get; init; }

    /// <inheritdoc/>
    public override string ToString() => Message;
}
