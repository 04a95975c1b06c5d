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

    /// <summary>-ArgumentList values, serialized (CliXml), passed after the item; null when they held a secret (<see cref="SecretArgumentList"/>).</summary>
    public string? ArgumentList { get; init; }

    /// <summary>$using: values by variable name, serialized (CliXml); secret ones are never here (<see cref="SecretUsings"/>).</summary>
    public Dictionary<string, string> UsingValues { get; init; } = [];

    /// <summary>
    /// The $using: variables whose values are secrets (a SecureString or PSCredential anywhere inside, a name
    /// that says secret, -SecretVariable) and so are never stored: the session that made the job keeps them in
    /// memory under <see cref="SecretsId"/>; any other must pass them again (-UsingValue).
    /// </summary>
    public string[] SecretUsings { get; init; } = [];

    /// <summary>Whether -ArgumentList held a secret and was left out, like <see cref="SecretUsings"/>.</summary>
    public bool SecretArgumentList { get; init; }

    /// <summary>Where the creating session keeps the secret values in memory; null when there are none.</summary>
    public string? SecretsId { get; init; }

    /// <summary>Whether running this operation needs values that are not stored.</summary>
    public bool HasSecrets => SecretUsings.Length > 0 || SecretArgumentList;

    /// <summary>Modules imported into every worker runspace.</summary>
    public string[] ImportModule { get; init; } = [];

    /// <summary>Functions defined in every worker runspace: name → body.</summary>
    public Dictionary<string, string> Functions { get; init; } = [];

    /// <summary>
    /// -RetryOn as a script block: run in the runspace that ran the failed item, with the error record as $_;
    /// its truth decides whether the item is tried again.
    /// </summary>
    public string? RetryOnScript { get; init; }

    /// <summary>-NoRetryOn as a script block: true means the error is not retried, whatever else says.</summary>
    public string? NoRetryOnScript { get; init; }
}
