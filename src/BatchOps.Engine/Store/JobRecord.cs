using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Store;

/// <summary>A job as the store keeps it: definition, state of its runs, and item counts.</summary>
public sealed record JobRecord
{
    /// <summary>Unique id (12 hex digits), chosen at creation.</summary>
    public required string Id { get; init; }

    /// <summary>Human name; several jobs may share one (the newest wins when a name is used as an id).</summary>
    public required string Name { get; init; }

    /// <summary>Optional free text.</summary>
    public string? Description { get; init; }

    /// <summary>Labels to filter jobs by.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>Where the job stands; Running with a dead owner is reported as Interrupted.</summary>
    public JobStatus Status { get; init; }

    /// <summary>Settings the job runs with.</summary>
    public JobSettings Settings { get; init; } = new();

    /// <summary>What runs per item: "exec", "http", "scriptblock"… (the front end that owns it knows how to run it).</summary>
    public required string OperationKind { get; init; }

    /// <summary>The operation's definition as text (JSON, script text), in the front end's own format.</summary>
    public required string Operation { get; init; }

    /// <summary>How item inputs are serialized ("json", "clixml"…).</summary>
    public string InputFormat { get; init; } = "json";

    /// <summary>How item outputs are serialized.</summary>
    public string OutputFormat { get; init; } = "text";

    /// <summary>The JSON Lines file the job's items are read from (it keeps where they are, not copies); null when the store holds them.</summary>
    public ItemsFileInfo? ItemsFile { get; init; }

    /// <summary>What undoes a succeeded item (a job without stages); null when nothing can.</summary>
    public UndoDefinition? Undo { get; init; }

    /// <summary>The job's stages (each a range of its items); null for a job of one operation. See <see cref="Plan"/>.</summary>
    public IReadOnlyList<JobStage>? Stages { get; init; }

    /// <summary>Who to tell when the job ends, and for which endings; null for nobody.</summary>
    public IReadOnlyList<Notifications.NotificationTarget>? Notify { get; init; }

    /// <summary>
    /// Whether the job is being (or was) rolled back: from then on a resume goes on compensating its
    /// succeeded items instead of running the rest.
    /// </summary>
    public bool RollingBack { get; init; }

    /// <summary>
    /// Whether the job is run by workers that claim its chunks (queued with -Queue or batchops submit)
    /// rather than by one owner holding its lease.
    /// </summary>
    public bool Queued { get; init; }

    /// <summary>
    /// Whether the job's items were piped in as they arrived and the input had not ended when its run last
    /// stopped (Ctrl+C, a crash, an error upstream): the job holds only the items recorded until then, and
    /// says so in its <see cref="Message"/> whenever it is not running.
    /// </summary>
    public bool InputIncomplete { get; init; }

    /// <summary>When the job was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the latest run started.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When the latest run ended.</summary>
    public DateTimeOffset? EndedAt { get; init; }

    /// <summary>Why the latest run stopped or failed, when it did.</summary>
    public string? Message { get; init; }

    /// <summary>How many runs (first run, resumes, retries) have started.</summary>
    public int RunCount { get; init; }

    /// <summary>The lease of the running owner, while one holds it.</summary>
    public JobLease? Lease { get; init; }

    /// <summary>A stop another process asked for and the owner has not yet honoured.</summary>
    public StopMode? StopRequest { get; init; }

    /// <summary>Item counts by status.</summary>
    public ItemCounts Counts { get; init; } = new();

    /// <summary>Length of the latest run, when it has ended.</summary>
    public TimeSpan? Duration => StartedAt is { } start && EndedAt is { } end && end >= start ? end - start : null;

    /// <summary>
    /// The job's stages, or one unnamed stage over all its items for a job without stages. Not written out
    /// (show --json, exports): that stage's Count is an internal "to the end" value no one should read.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<JobStage> Plan => Stages ?? [new JobStage
    {
        Name = string.Empty,
        Count = long.MaxValue / 2,
        OperationKind = OperationKind,
        Operation = Operation,
        Undo = Undo,
    }];

    /// <summary>
    /// What a reader of the job's items should know about outputs the store did not keep (the job's
    /// <see cref="JobSettings.KeepOutput"/>); null when it keeps them all.
    /// </summary>
    public string? OutputsNotKept() => Settings.KeepOutput switch
    {
        OutputKeeping.Failed => "outputs of succeeded items were not kept (KeepOutput Failed)",
        OutputKeeping.None => "outputs were not kept (KeepOutput None)",
        _ => null,
    };

    /// <summary>Whether any stage of the job can be undone.</summary>
    public bool CanUndo => Plan.Any(s => s.Undo is not null);

    /// <summary>The stage named <paramref name="name"/> (case-insensitive), or null.</summary>
    public JobStage? Stage(string name) => Stages?.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The stage the item at <paramref name="index"/> belongs to; null for a job without stages.</summary>
    public JobStage? StageOf(long index) => Stages?.FirstOrDefault(s => s.Contains(index));

    /// <summary>A fresh id: 12 lowercase hex digits.</summary>
    public static string NewId() => Guid.NewGuid().ToString("N")[..12];
}
