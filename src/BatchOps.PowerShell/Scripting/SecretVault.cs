using System.Collections;
using System.Collections.Concurrent;
using System.Management.Automation.Runspaces;
using System.Text.Json;
using BatchOps.Engine.Hosting;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

namespace BatchOps.PowerShell.Scripting;

/// <summary>
/// The secret $using: values (and an -ArgumentList holding a secret) of the jobs this PowerShell session
/// made, kept in memory only, never in the store. A job's stored definition names them
/// (<see cref="ScriptOperationSpec.SecretUsings"/>); before a run opens its workers the definition is filled
/// back in from here, or from -UsingValue, into a copy that only the run sees. Values are kept per session
/// (runspace): another session, like another process, must pass them again.
/// </summary>
internal static class SecretVault
{
    private static readonly ConcurrentDictionary<(Guid Session, string Id), Kept> Values = new();

    private sealed record Kept(IReadOnlyDictionary<string, string> Usings, string? ArgumentList);

    private static Guid Session => Runspace.DefaultRunspace?.InstanceId ?? Guid.Empty;

    /// <summary>Keeps secret values (CliXml, with their secrets) for this session; returns the id the stored definition carries.</summary>
    public static string Keep(IReadOnlyDictionary<string, string> usings, string? argumentList)
    {
        var id = JobRecord.NewId();
        Values[(Session, id)] = new Kept(usings, argumentList);
        return id;
    }

    /// <summary>Whether a job's definition (any stage's or undo's) names values that are not stored.</summary>
    public static bool HasSecrets(JobDefinition definition) =>
        Specs(definition.OperationKind, definition.Operation, definition.Undo, definition.Stages).Any(s => s.HasSecrets);

    /// <summary>The names of the secret $using: variables of a job's definition, for messages.</summary>
    public static IEnumerable<string> SecretVariables(JobDefinition definition) =>
        Specs(definition.OperationKind, definition.Operation, definition.Undo, definition.Stages).SelectMany(s => s.SecretUsings).Distinct(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// A copy of <paramref name="job"/> whose script-block definitions carry their secret values again, from
    /// this session or from <paramref name="given"/> (-UsingValue, which wins). Never store the copy. Throws
    /// <see cref="SecretsMissingException"/> naming what neither has.
    /// </summary>
    public static JobRecord Hydrate(JobRecord job, IDictionary? given)
    {
        ArgumentNullException.ThrowIfNull(job);
        var missing = new List<string>();
        string Fill(string kind, string operation)
        {
            if (kind != ScriptOperationSpec.Kind || JsonSerializer.Deserialize<ScriptOperationSpec>(operation, StoreJson.Options) is not { HasSecrets: true } spec)
            {
                return operation;
            }

            Values.TryGetValue((Session, spec.SecretsId ?? string.Empty), out var kept);
            var usings = new Dictionary<string, string>(spec.UsingValues, StringComparer.OrdinalIgnoreCase);
            foreach (var name in spec.SecretUsings)
            {
                if (Given(given, name) is (true, var value))
                {
                    usings[name] = CliXmlCodec.SerializeKeepingSecrets(value);
                }
                else if (kept?.Usings.TryGetValue(name, out var xml) == true)
                {
                    usings[name] = xml;
                }
                else
                {
                    missing.Add(name);
                }
            }

            var arguments = spec.ArgumentList;
            if (spec.SecretArgumentList)
            {
                arguments = kept?.ArgumentList;
                if (arguments is null)
                {
                    missing.Add("-ArgumentList");
                }
            }

            return JsonSerializer.Serialize(spec with { UsingValues = usings, ArgumentList = arguments, SecretUsings = [], SecretArgumentList = false }, StoreJson.Options);
        }

        var hydrated = job with
        {
            Operation = Fill(job.OperationKind, job.Operation),
            Undo = job.Undo is { } undo ? undo with { Operation = Fill(undo.OperationKind, undo.Operation) } : null,
            Stages = job.Stages?.Select(s => s with
            {
                Operation = Fill(s.OperationKind, s.Operation),
                Undo = s.Undo is { } stageUndo ? stageUndo with { Operation = Fill(stageUndo.OperationKind, stageUndo.Operation) } : null,
            }).ToArray(),
        };
        if (missing.Count > 0)
        {
            throw new SecretsMissingException(job, [.. missing.Distinct(StringComparer.OrdinalIgnoreCase)]);
        }

        return hydrated;
    }

    private static (bool Found, object? Value) Given(IDictionary? given, string name)
    {
        foreach (DictionaryEntry entry in given ?? new Hashtable())
        {
            if (string.Equals(entry.Key?.ToString(), name, StringComparison.OrdinalIgnoreCase))
            {
                return (true, entry.Value);
            }
        }

        return (false, null);
    }

    private static IEnumerable<ScriptOperationSpec> Specs(string kind, string operation, UndoDefinition? undo, IReadOnlyList<JobStage>? stages)
    {
        var all = new List<(string Kind, string Operation)> { (kind, operation) };
        if (undo is not null)
        {
            all.Add((undo.OperationKind, undo.Operation));
        }

        foreach (var stage in stages ?? [])
        {
            all.Add((stage.OperationKind, stage.Operation));
            if (stage.Undo is { } stageUndo)
            {
                all.Add((stageUndo.OperationKind, stageUndo.Operation));
            }
        }

        return all.Where(a => a.Kind == ScriptOperationSpec.Kind).Select(a => JsonSerializer.Deserialize<ScriptOperationSpec>(a.Operation, StoreJson.Options)!);
    }
}

/// <summary>A run needs secret values that are never stored, and neither this session nor -UsingValue has them.</summary>
internal sealed class SecretsMissingException(JobRecord job, IReadOnlyList<string> missing) : Exception(Describe(job, missing))
{
    public IReadOnlyList<string> Missing { get; } = missing;

    private static string Describe(JobRecord job, IReadOnlyList<string> missing)
    {
        var usings = missing.Where(m => m != "-ArgumentList").ToList();
        var message = $"Job '{job.Name}' ({job.Id}) needs secret values that are never stored, and this session did not make the job (or was restarted): ";
        if (usings.Count > 0)
        {
            message += $"$using: {string.Join(", ", usings)}. Pass them again: -UsingValue @{{ {string.Join("; ", usings.Select(u => $"{u} = ${u}"))} }}.";
        }

        if (missing.Contains("-ArgumentList"))
        {
            message += (usings.Count > 0 ? " " : string.Empty) + "Its -ArgumentList held a secret, which cannot be passed again: run it from the session that made it, or make the job again passing secrets with $using:.";
        }

        return message;
    }
}
