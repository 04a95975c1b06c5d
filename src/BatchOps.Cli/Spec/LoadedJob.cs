using System.Text.Json;
using BatchOps.Cli.Operations;
using BatchOps.Engine.Jobs;

namespace BatchOps.Cli.Spec;

/// <summary>
/// A checked spec: the job definition to store, its items (every one checked; an items file is read again,
/// line by line, each time they are enumerated), the key of each item, and the compiled operation.
/// </summary>
public sealed record LoadedJob(JobDefinition Definition, IReadOnlyCollection<JsonElement> Items, Func<JsonElement, string?>? KeySelector, CompiledOperation Operation);
