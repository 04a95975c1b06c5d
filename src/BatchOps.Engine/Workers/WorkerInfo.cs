namespace BatchOps.Engine.Workers;

/// <summary>A running worker as it announces itself in the store, and again at every presence beat.</summary>
/// <param name="Id">Unique per worker run (a restarted worker is a new one, even with the same name).</param>
/// <param name="Identity">The worker's name, host and process, as its claims carry them.</param>
/// <param name="Kinds">The operation kinds it runs.</param>
/// <param name="Concurrency">Chunks it runs at once.</param>
/// <param name="Lease">Its claims' lease: a worker not seen for that long is reported missing.</param>
/// <param name="ChunksRecorded">Chunks it has recorded since it started.</param>
public sealed record WorkerPresence(string Id, WorkerIdentity Identity, IReadOnlyList<string> Kinds, int Concurrency, TimeSpan Lease, long ChunksRecorded);

/// <summary>What a worker is doing, as the store last heard of it.</summary>
public enum WorkerState
{
    /// <summary>Seen within its lease, holding no chunk: waiting for work.</summary>
    Idle = 0,

    /// <summary>Seen within its lease, running chunks.</summary>
    Busy = 1,

    /// <summary>Not seen for longer than its lease: it died, hangs or lost the database (its chunks pass to other workers).</summary>
    Missing = 2,

    /// <summary>Seen within its lease and asked to stop: it claims nothing more, finishes the chunks it holds, then leaves the list.</summary>
    Stopping = 3,
}

/// <summary>One worker in the store's list (<see cref="IWorkQueue.ListWorkersAsync"/>).</summary>
public sealed record WorkerInfo
{
    /// <summary>Unique per worker run.</summary>
    public required string Id { get; init; }

    /// <summary>The worker's name (host:pid unless it was given one).</summary>
    public required string Name { get; init; }

    /// <summary>The host it runs on.</summary>
    public required string Host { get; init; }

    /// <summary>Its process id on that host.</summary>
    public required int ProcessId { get; init; }

    /// <summary>Idle, Busy, Stopping or Missing.</summary>
    public required WorkerState State { get; init; }

    /// <summary>The operation kinds it runs.</summary>
    public required IReadOnlyList<string> Kinds { get; init; }

    /// <summary>Chunks it runs at once.</summary>
    public required int Concurrency { get; init; }

    /// <summary>Its claims' lease.</summary>
    public required TimeSpan Lease { get; init; }

    /// <summary>When it started.</summary>
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>When it was last seen (its last presence beat).</summary>
    public required DateTimeOffset SeenAt { get; init; }

    /// <summary>Chunks it has recorded since it started (as of its last beat).</summary>
    public required long ChunksRecorded { get; init; }

    /// <summary>Chunks held under its name now (claimed, lease not expired).</summary>
    public required int ChunksHeld { get; init; }

    /// <summary>The jobs of those chunks.</summary>
    public required IReadOnlyList<string> Jobs { get; init; }

    /// <summary>When it was asked to stop (<see cref="IWorkQueue.AskWorkersToStopAsync"/>); null when it was not.</summary>
    public DateTimeOffset? StopAskedAt { get; init; }
}
