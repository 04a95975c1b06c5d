using System.Text.Json;
using BatchOps.Cli.Operations;
using BatchOps.Engine.Jobs;

namespace BatchOps.Cli.Spec;

/// <summary>
/// A checked spec: the job definition to store, its items (every one checked; an items file is read again,
/// line by line, each time they are enumerated), the key of each item, the compiled operation, and the
/// items file when the items come from one (the job keeps where they are in it rather than copies).
/// </summary>
public sealed record LoadedJob(JobDefinition Definition, IReadOnlyCollection<JsonElement> Items, Func<JsonElement, string?>? KeySelector, CompiledOperation Operation, ItemsFile? File = null);
