using System.Text.Json;
using BatchOps.Engine.Jobs;

namespace BatchOps.Cli.Spec;

/// <summary>A checked spec: the job definition to store, its items, and the key of each item.</summary>
public sealed record LoadedJob(JobDefinition Definition, IReadOnlyList<JsonElement> Items, Func<JsonElement, string?>? KeySelector);
