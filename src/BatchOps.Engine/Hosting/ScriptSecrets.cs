using System.Text.Json;
using System.Text.RegularExpressions;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

namespace BatchOps.Engine.Hosting;

/// <summary>
/// Secrets in what the PowerShell layer stores as CliXml. CliXml writes a SecureString (alone or inside a
/// PSCredential, however deep) as an <c>&lt;SS&gt;</c> element whose text, on every platform but Windows, is
/// the UTF-16 bytes of the plain secret in hex: anyone who reads the store can turn it back. So no
/// <c>&lt;SS&gt;</c> text is ever stored: item inputs and outputs keep a marker in its place, and $using:
/// values holding one are kept out of the job's definition altogether (<see cref="ScriptOperationSpec.SecretUsings"/>).
/// </summary>
public static partial class ScriptSecrets
{
    /// <summary>What stands where a secret was in a stored input or output.</summary>
    public const string Marker = "<secret>";

    /// <summary>Whether CliXml text holds a SecureString (a PSCredential's password included).</summary>
    public static bool HoldsSecureString(string cliXml) => cliXml.Contains("<SS", StringComparison.Ordinal);

    /// <summary>The CliXml with every SecureString replaced by the string <see cref="Marker"/>; the same string when there is none.</summary>
    public static string Redact(string cliXml)
    {
        ArgumentNullException.ThrowIfNull(cliXml);
        return HoldsSecureString(cliXml) ? SecureStringElement().Replace(cliXml, $"<S$1>{System.Security.SecurityElement.Escape(Marker)}</S>") : cliXml;
    }

    /// <summary>
    /// A stored script-block definition with the secrets older versions wrote taken out: $using: values that
    /// hold a SecureString or whose names say secret, and an -ArgumentList holding a SecureString. Null when
    /// there were none. A resume then asks for them (-UsingValue), as for any job made by this version.
    /// </summary>
    public static string? Scrub(string operationJson)
    {
        ScriptOperationSpec? spec;
        try
        {
            spec = JsonSerializer.Deserialize<ScriptOperationSpec>(operationJson, StoreJson.Options);
        }
        catch (JsonException)
        {
            return null;
        }

        if (spec is null)
        {
            return null;
        }

        var secret = spec.UsingValues.Where(u => HoldsSecureString(u.Value) || SecretNames.IsSecretVariable(u.Key)).Select(u => u.Key).ToArray();
        var secretArguments = spec.ArgumentList is { } arguments && HoldsSecureString(arguments);
        if (secret.Length == 0 && !secretArguments)
        {
            return null;
        }

        var scrubbed = spec with
        {
            UsingValues = spec.UsingValues.Where(u => !secret.Contains(u.Key)).ToDictionary(u => u.Key, u => u.Value, StringComparer.OrdinalIgnoreCase),
            SecretUsings = [.. spec.SecretUsings.Union(secret, StringComparer.OrdinalIgnoreCase)],
            ArgumentList = secretArguments ? null : spec.ArgumentList,
            SecretArgumentList = spec.SecretArgumentList || secretArguments,
            SecretsId = spec.SecretsId ?? JobRecord.NewId(),
        };
        return JsonSerializer.Serialize(scrubbed, StoreJson.Options);
    }

    /// <summary>
    /// <see cref="Scrub(string)"/> over a stored job's script-block definitions: its operation, its undo and
    /// every stage's; null for each part that needs no change.
    /// </summary>
    public static (string? Operation, string? Undo, string? Stages) ScrubJob(string operationKind, string operation, string? undo, string? stages)
    {
        var newOperation = operationKind == ScriptOperationSpec.Kind ? Scrub(operation) : null;
        string? newUndo = null;
        if (undo is not null && JsonSerializer.Deserialize<UndoDefinition>(undo, StoreJson.Options) is { OperationKind: ScriptOperationSpec.Kind } undoDefinition
            && Scrub(undoDefinition.Operation) is { } scrubbedUndo)
        {
            newUndo = JsonSerializer.Serialize(undoDefinition with { Operation = scrubbedUndo }, StoreJson.Options);
        }

        string? newStages = null;
        if (stages is not null && JsonSerializer.Deserialize<JobStage[]>(stages, StoreJson.Options) is { } plan)
        {
            var changed = false;
            for (var i = 0; i < plan.Length; i++)
            {
                if (plan[i].OperationKind == ScriptOperationSpec.Kind && Scrub(plan[i].Operation) is { } forward)
                {
                    plan[i] = plan[i] with { Operation = forward };
                    changed = true;
                }

                if (plan[i].Undo is { OperationKind: ScriptOperationSpec.Kind } stageUndo && Scrub(stageUndo.Operation) is { } back)
                {
                    plan[i] = plan[i] with { Undo = stageUndo with { Operation = back } };
                    changed = true;
                }
            }

            newStages = changed ? JsonSerializer.Serialize(plan, StoreJson.Options) : null;
        }

        return (newOperation, newUndo, newStages);
    }

    [GeneratedRegex("<SS((?: [A-Za-z]+=\"[^\"]*\")*)>[^<]*</SS>", RegexOptions.CultureInvariant)]
    private static partial Regex SecureStringElement();
}
