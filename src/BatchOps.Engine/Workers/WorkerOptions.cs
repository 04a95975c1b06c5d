namespace BatchOps.Engine.Workers;

/// <summary>How a <see cref="JobWorker"/> works.</summary>
public sealed record WorkerOptions
{
    /// <summary>The worker's name in claims and logs; the default is host:pid.</summary>
    public string? Name { get; init; }

    /// <summary>Jobs run at once (a job's items run at most ThrottleLimit at a time in each worker). The default is 1.</summary>
    public int Concurrency { get; init; } = 1;

    /// <summary>Operation kinds this worker runs ("exec", "http", "sql", "scriptblock"…).</summary>
    public IReadOnlyCollection<string> Kinds { get; init; } = [];

    /// <summary>How long a claim lasts without a heartbeat before another worker may take the chunk. The default is 30 seconds.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a claim is renewed and stop requests are read. The default is a sixth of the lease, at most 500 ms.</summary>
    public TimeSpan HeartbeatInterval => TimeSpan.FromTicks(Math.Min(Lease.Ticks / 6, TimeSpan.FromMilliseconds(500).Ticks));

    /// <summary>How long an idle slot waits before it looks for work again. The default is 250 ms.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Stop once there is nothing to claim (each slot ends when it finds no work) instead of waiting for more.</summary>
    public bool ExitWhenIdle { get; init; }

    /// <summary>Folder of the per-job log files on this host; null writes none.</summary>
    public string? LogFolder { get; init; }

    /// <summary>Checks the values, naming the bad one.</summary>
    public void Validate()
    {
        if (Concurrency is < 1 or > 256)
        {
            throw new ArgumentOutOfRangeException(nameof(Concurrency), Concurrency, $"Concurrency {Concurrency} is out of range: use 1 to 256.");
        }

        if (Lease < TimeSpan.FromSeconds(1) || Lease > TimeSpan.FromHours(1))
        {
            throw new ArgumentOutOfRangeException(nameof(Lease), Lease, $"Lease {Lease} is out of range: use 1 second to 1 hour.");
        }
    }
}

/// <summary>What a worker reports.</summary>
public enum WorkerEventKind
{
    /// <summary>Claimed a chunk.</summary>
    Claimed,

    /// <summary>Claimed a chunk another worker had held (it died or was late).</summary>
    Reclaimed,

    /// <summary>Lost a claim: the results of the chunk were discarded.</summary>
    Lost,

    /// <summary>Gave a claim back unrecorded while stopping.</summary>
    Released,

    /// <summary>Ended a job (its last chunk was recorded).</summary>
    JobEnded,

    /// <summary>Opened a stage of a queued job: every stage it depends on completed, so its chunks can be claimed.</summary>
    StageOpened,

    /// <summary>Skipped a stage of a queued job: a stage it depends on ended without completing.</summary>
    StageSkipped,

    /// <summary>The store failed; the worker goes on.</summary>
    StoreError,

    /// <summary>Another running worker has this worker's name: the list of workers cannot tell their claims apart.</summary>
    NameInUse,

    /// <summary>Asked to stop through the store (batchops workers stop, Stop-BatchWorker): it claims nothing more and finishes the chunks it holds.</summary>
    StopAsked,

    /// <summary>A notice of a job's end was sent.</summary>
    NoticeSent,

    /// <summary>A notice of a job's end failed after its retries (recorded on the job; the job is not affected).</summary>
    NoticeFailed,
}

/// <summary>One thing a worker did.</summary>
public sealed record WorkerEvent(WorkerEventKind Kind, string? JobId, string Message, DateTimeOffset At)
{
    /// <inheritdoc/>
    public override string ToString() => $"{At:HH:mm:ss} {Kind.ToString().ToLowerInvariant()}{(JobId is null ? string.Empty : " " + JobId)}: {Message}";
}
