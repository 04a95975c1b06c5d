namespace BatchOps.Engine.Jobs;

/// <summary>
/// One stage of a job: a run of the job's items (a contiguous range of indexes) with an operation, settings
/// and undo of its own, started once every stage it depends on has completed. A job without stages runs as
/// one unnamed stage over all of its items (<see cref="Store.JobRecord.Plan"/>).
/// </summary>
public sealed record JobStage
{
    /// <summary>The stage's name, unique within the job.</summary>
    public required string Name { get; init; }

    /// <summary>Names of the stages that must complete (every item Succeeded) before this one starts.</summary>
    public IReadOnlyList<string> DependsOn { get; init; } = [];

    /// <summary>The index of the stage's first item in the job.</summary>
    public long FirstIndex { get; init; }

    /// <summary>How many items the stage has.</summary>
    public long Count { get; init; }

    /// <summary>What runs per item, in the front end's own format (see <see cref="JobDefinition.OperationKind"/>).</summary>
    public required string OperationKind { get; init; }

    /// <summary>The operation's definition as text.</summary>
    public required string Operation { get; init; }

    /// <summary>The stage's own settings, over the job's.</summary>
    public JobSettings Settings { get; init; } = new();

    /// <summary>What undoes one of the stage's succeeded items, when anything can.</summary>
    public UndoDefinition? Undo { get; init; }

    /// <summary>The index of the stage's last item.</summary>
    public long LastIndex => FirstIndex + Count - 1;

    /// <summary>Whether the item at <paramref name="index"/> belongs to the stage.</summary>
    public bool Contains(long index) => index >= FirstIndex && index <= LastIndex;
}

/// <summary>The operation that compensates (undoes) a succeeded item, and settings for undo runs.</summary>
public sealed record UndoDefinition
{
    /// <summary>Operation kind, in the front end's own format (it may differ from the forward operation's).</summary>
    public required string OperationKind { get; init; }

    /// <summary>The operation's definition as text.</summary>
    public required string Operation { get; init; }

    /// <summary>Settings for undo runs, over the stage's and the job's (a longer timeout, more retries).</summary>
    public JobSettings Settings { get; init; } = new();
}

/// <summary>What a job does when it ends with failed items or is stopped by its error policy.</summary>
public enum FailureAction
{
    /// <summary>Keep what succeeded (the default): retry the failed items later.</summary>
    Continue = 0,

    /// <summary>Undo every succeeded item, stages in reverse dependency order, items in reverse completion order.</summary>
    Rollback = 1,
}
