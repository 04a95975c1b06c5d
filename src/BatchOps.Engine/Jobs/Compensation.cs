namespace BatchOps.Engine.Jobs;

/// <summary>What an undo operation is given for one succeeded item: its input and the output its forward operation produced.</summary>
/// <param name="Input">The item's input, as the forward operation got it.</param>
/// <param name="Output">What the forward operation returned (say, the id of the created resource); default when it returned nothing.</param>
public sealed record Compensation<TIn, TOut>(TIn Input, TOut? Output)
{
    /// <summary>The stage the item belongs to; empty for a job without stages.</summary>
    public string Stage { get; init; } = string.Empty;

    /// <summary>The output as stored, written back unchanged with the compensation's outcome.</summary>
    internal string? StoredOutput { get; init; }
}
