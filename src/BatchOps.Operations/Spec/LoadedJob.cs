using System.Text.Json;
using BatchOps.Operations;
using BatchOps.Engine.Jobs;

namespace BatchOps.Operations.Spec;

/// <summary>
/// A checked spec: the job definition to store, its items (every one checked; an items file is read again,
/// line by line, each time they are enumerated), the key of each item, the compiled operation, and the
/// items file when the items come from one (the job keeps where they are in it rather than copies). A staged
/// spec has its <see cref="Stages"/>; then <see cref="Items"/> holds every stage's items one stage after
/// another and <see cref="Operation"/> is the first stage's.
/// </summary>
public sealed record LoadedJob(JobDefinition Definition, IReadOnlyCollection<JsonElement> Items, Func<JsonElement, string?>? KeySelector, CompiledOperation Operation, ItemsFile? File = null)
{
    /// <summary>The undo operation of a spec without stages.</summary>
    public CompiledOperation? Undo { get; init; }

    /// <summary>The stages of a staged spec, in the order written (their items in that order too).</summary>
    public IReadOnlyList<LoadedStage>? Stages { get; init; }

    /// <summary>With "invalidItems": "fail": the items (job-wide indexes) that do not match the schema, and why; they are recorded Failed.</summary>
    public IReadOnlyList<InvalidItem> Invalid { get; init; } = [];

    /// <summary>With "dedupe": "first": how many items were dropped because an earlier item had their key.</summary>
    public int Dropped { get; init; }

    /// <summary>The stages whose operation or undo is a PowerShell script block: only PowerShell runs them.</summary>
    public IReadOnlyList<string> ScriptBlockStages =>
        [.. (Stages ?? []).Where(s => s.Operation is ScriptBlockOperation || s.Undo is ScriptBlockOperation).Select(s => s.Stage.Name)];

    /// <summary>What the spec's operations do that is risky with untrusted item data (<see cref="CompiledOperation.Warnings"/>), every stage and undo included.</summary>
    public IReadOnlyList<string> Warnings =>
    [
        .. (Stages is null ? [Operation, Undo] : Stages.SelectMany(s => new[] { s.Operation, s.Undo }))
            .OfType<CompiledOperation>()
            .SelectMany(o => o.Warnings)
            .Distinct(),
    ];
}

/// <summary>An item that does not match the spec's item schema, by index, with every violation.</summary>
public sealed record InvalidItem(long Index, string Message);

/// <summary>A checked stage: its place in the plan, its items with their keys, and its compiled operations.</summary>
public sealed record LoadedStage(JobStage Stage, IReadOnlyCollection<JsonElement> Items, Func<JsonElement, string?>? KeySelector, CompiledOperation Operation, CompiledOperation? Undo);
