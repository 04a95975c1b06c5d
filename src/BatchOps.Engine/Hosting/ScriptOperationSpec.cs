namespace BatchOps.Engine.Hosting;

/// <summary>
/// The stored definition of a script-block operation (OperationKind "scriptblock"): everything a later
/// session needs to run the job again without the original one.
/// </summary>
public sealed record ScriptOperationSpec
{
    /// <summary>OperationKind of script-block jobs.</summary>
    public const string Kind = "scriptblock";

    /// <summary>The script, with $using: references already rewritten (see <see cref="UsingRewriter"/>).</summary>
    public required string Script { get; init; }

    /// <summary>True when the script receives a whole chunk (an array) per call instead of one item.</summary>
    public bool PerChunk { get; init; }

    /// <summary>-ArgumentList values, serialized (CliXml), passed after the item.</summary>
    public string? ArgumentList { get; init; }

    /// <summary>$using: values by variable name, serialized (CliXml).</summary>
    public Dictionary<string, string> UsingValues { get; init; } = [];

    /// <summary>Modules imported into every worker runspace.</summary>
    public string[] ImportModule { get; init; } = [];

    /// <summary>Functions defined in every worker runspace: name → body.</summary>
    public Dictionary<string, string> Functions { get; init; } = [];
}
