namespace BatchOps.Engine.Jobs;

/// <summary>What a new job is: its name, labels, effective settings and operation.</summary>
public sealed record JobDefinition
{
    /// <summary>Human name; required.</summary>
    public required string Name { get; init; }

    /// <summary>Optional free text.</summary>
    public string? Description { get; init; }

    /// <summary>Labels to filter by.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>Effective settings, after the settings-file layers were applied.</summary>
    public JobSettings Settings { get; init; } = new();

    /// <summary>Operation kind ("exec", "http", "scriptblock"…).</summary>
    public required string OperationKind { get; init; }

    /// <summary>Operation definition as text, in the front end's own format.</summary>
    public required string Operation { get; init; }

    /// <summary>What undoes a succeeded item (a job without stages); null when nothing can.</summary>
    public UndoDefinition? Undo { get; init; }

    /// <summary>The job's stages, in the order their items were recorded; null for a job of one operation.</summary>
    public IReadOnlyList<JobStage>? Stages { get; init; }

    /// <summary>Who to tell when the job ends, and for which endings; null for nobody.</summary>
    public IReadOnlyList<Notifications.NotificationTarget>? Notify { get; init; }
}
