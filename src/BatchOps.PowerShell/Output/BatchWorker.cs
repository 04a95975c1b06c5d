#pragma warning disable IDE0130 // Users type the short namespace: [BatchOps.BatchWorker].
namespace BatchOps;
#pragma warning restore IDE0130

/// <summary>What a worker is doing, as the store last heard of it.</summary>
public enum BatchWorkerState
{
    /// <summary>Seen within its lease, holding no chunk: waiting for work.</summary>
    Idle = 0,

    /// <summary>Seen within its lease, running chunks.</summary>
    Busy = 1,

    /// <summary>Not seen for longer than its lease: it died, hangs or lost the database; its chunks pass to other workers.</summary>
    Missing = 2,

    /// <summary>Asked to stop (Stop-BatchWorker, batchops workers stop): it claims nothing more, finishes the chunks it holds, then leaves the list.</summary>
    Stopping = 3,
}

/// <summary>A worker of a PostgreSQL job store (Start-BatchWorker or batchops worker, on any host), as Get-BatchWorker shows it.</summary>
public sealed class BatchWorker
{
    /// <summary>The worker's name (host:pid unless it was given one); its claims carry it.</summary>
    public required string Name { get; init; }

    /// <summary>The host it runs on.</summary>
    public required string ComputerName { get; init; }

    /// <summary>Its process id on that host.</summary>
    public required int ProcessId { get; init; }

    /// <summary>Idle, Busy, Stopping or Missing.</summary>
    public required BatchWorkerState State { get; init; }

    /// <summary>Chunks held under its name now.</summary>
    public required int ChunksHeld { get; init; }

    /// <summary>Chunks it has recorded since it started (as of its last beat).</summary>
    public required long ChunksRecorded { get; init; }

    /// <summary>Ids of the jobs whose chunks it holds now.</summary>
    public required string[] Jobs { get; init; }

    /// <summary>The operation kinds it runs (scriptblock for Start-BatchWorker).</summary>
    public required string[] Kinds { get; init; }

    /// <summary>Chunks it runs at once.</summary>
    public required int Concurrency { get; init; }

    /// <summary>Its claims' lease: not seen for that long, it is Missing.</summary>
    public required TimeSpan Lease { get; init; }

    /// <summary>When it started.</summary>
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>When it was last seen.</summary>
    public required DateTimeOffset LastSeen { get; init; }

    /// <summary>When it was asked to stop; null when it was not.</summary>
    public DateTimeOffset? StopAskedAt { get; init; }

    /// <summary>Unique per worker run (a restarted worker is a new one).</summary>
    public required string WorkerId { get; init; }

    /// <summary>The store it works for.</summary>
    public required string Store { get; init; }

    /// <inheritdoc/>
    public override string ToString() => Name;
}
