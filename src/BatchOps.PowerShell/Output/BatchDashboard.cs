#pragma warning disable IDE0130 // Users type the short namespace: [BatchOps.BatchDashboard].
namespace BatchOps;
#pragma warning restore IDE0130

/// <summary>A dashboard server started by Start-BatchDashboard: where it listens and which process it is.</summary>
public sealed class BatchDashboard
{
    /// <summary>
    /// The page to open, with the token once (http://127.0.0.1:5178/?token=…): the page trades it for an
    /// HttpOnly cookie and drops it from the address bar. Without a token (-NoToken), the bare root.
    /// </summary>
    public required string Url { get; init; }

    /// <summary>The token API clients send as 'Authorization: Bearer TOKEN' (null with -NoToken).</summary>
    public System.Security.SecureString? Token { get; init; }

    /// <summary>The server's process (Stop-BatchDashboard or Stop-Process ends it).</summary>
    public required int ProcessId { get; init; }

    /// <summary>The job store folder it serves.</summary>
    public required string Store { get; init; }

    /// <summary>Whether it refuses every change (no cancel, resume, retry, delete or new jobs).</summary>
    public bool ReadOnly { get; init; }

    /// <summary>Whether requests need the token (every dashboard has one unless started with -NoToken).</summary>
    public bool TokenRequired { get; init; }

    /// <summary>When it started listening.</summary>
    public DateTimeOffset StartedAt { get; init; }

    /// <inheritdoc/>
    public override string ToString() => Url;
}
