using System.Text.Json;
using System.Text.Json.Serialization;
using BatchOps.Cli.Operations;
using BatchOps.Engine.Config;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

namespace BatchOps.Cli.Spec;

/// <summary>
/// Reads and checks a job spec file completely before anything runs: unknown fields, missing or
/// conflicting fields, invalid settings, and every placeholder against every item are reported with the
/// file and the field to fix.
/// </summary>
public static class JobSpecLoader
{
    private static readonly JsonSerializerOptions StrictOptions = new(StoreJson.Options)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>Loads a spec; <paramref name="settingsFile"/> supplies the layers below the spec's own settings.</summary>
    public static LoadedJob Load(string path, SettingsFile settingsFile)
    {
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new JobSpecException($"The job spec file '{fullPath}' does not exist.");
        }

        return Load(File.ReadAllText(fullPath), fullPath, Path.GetDirectoryName(fullPath)!, settingsFile);
    }

    /// <summary>
    /// Loads a spec given as text (a request body): <paramref name="where"/> names it in errors, and paths in it
    /// (itemsFile) are relative to <paramref name="folder"/>.
    /// </summary>
    public static LoadedJob Load(string json, string where, string folder, SettingsFile settingsFile)
    {
        ArgumentNullException.ThrowIfNull(settingsFile);
        JobSpec spec;
        try
        {
            spec = JsonSerializer.Deserialize<JobSpec>(json, StrictOptions)
                ?? throw new JobSpecException($"{where}: the spec is null; write a JSON object with name, items and operation.");
        }
        catch (JsonException error)
        {
            throw new JobSpecException($"{where}: {Describe(error)}", error);
        }

        if (string.IsNullOrWhiteSpace(spec.Name))
        {
            throw new JobSpecException($"{where}: \"name\" is required.");
        }

        var operation = spec.Operation ?? throw new JobSpecException($"{where}: \"operation\" is required, with \"kind\" \"exec\", \"http\" or \"sql\".");
        var compiled = OperationFactory.Compile(operation, folder, $"{where}: operation");
        var key = spec.Key is null ? null : Template.Parse(spec.Key, $"{where}: key");
        if (key?.UsesJob == true)
        {
            throw new JobSpecException($"{where}: \"key\" cannot use {{jobId}} or {{idempotencyKey}}: the key names the item within its job (and is part of its idempotency key); build it from the item's fields.");
        }

        JobSettings settings;
        try
        {
            settings = settingsFile.Resolve(spec.Name, spec.Settings);
            _ = settings.ToOptions();
        }
        catch (ArgumentOutOfRangeException error)
        {
            var source = spec.Settings is not null && SettingNames.Explain(error) is { } text ? text : error.Message;
            throw new JobSpecException($"{where}: settings: {source}", error);
        }

        Func<JsonElement, string?>? keySelector = key is null ? null : item => key.Render(item, -1);
        var schema = ItemSchema.Load(spec.ItemSchema, folder, where);
        var firstWithKey = new Dictionary<string, long>(StringComparer.Ordinal);
        var (items, file) = ReadItems(spec, folder, where, settings.ToOptions().ChunkSize, keySelector, (item, index) =>
        {
            // An item the schema rejects is listed with the others; its placeholders are not checked on top.
            if (schema?.Check(item, index) != false)
            {
                compiled.Validate(item, index);
                key?.Validate(item, index);
                if (key?.Render(item, index) is { } itemKey && !firstWithKey.TryAdd(itemKey, index))
                {
                    throw new JobSpecException(
                        $"{where}: items {firstWithKey[itemKey]} and {index} have the same key '{itemKey}' (from \"key\": \"{spec.Key}\"). Keys name items and make their idempotency keys, so they must be unique: change the key or the items.");
                }
            }
        });
        schema?.ThrowIfViolated(where);

        var definition = new JobDefinition
        {
            Name = spec.Name,
            Description = spec.Description,
            Tags = spec.Tags ?? [],
            Settings = settings,
            OperationKind = compiled.Kind,
            Operation = compiled.Definition,
        };
        return new LoadedJob(definition, items, keySelector, compiled, file);
    }

    /// <summary>
    /// The spec's items, each handed to <paramref name="check"/> once. An items file is scanned line by
    /// line, never held in memory, in ranges of the job's chunk size (the job keeps those, not copies).
    /// </summary>
    private static (IReadOnlyCollection<JsonElement> Items, ItemsFile? File) ReadItems(JobSpec spec, string folder, string where, int chunkSize, Func<JsonElement, string?>? keySelector, Action<JsonElement, long> check)
    {
        if (spec.Items is not null && spec.ItemsFile is not null)
        {
            throw new JobSpecException($"{where}: give \"items\" or \"itemsFile\", not both.");
        }

        if (spec.Items is { } inline)
        {
            if (inline.ValueKind != JsonValueKind.Array)
            {
                throw new JobSpecException($"{where}: \"items\" must be a JSON array.");
            }

            var list = inline.EnumerateArray().Select(e => e.Clone()).ToList();
            for (var i = 0; i < list.Count; i++)
            {
                check(list[i], i);
            }

            return (list, null);
        }

        if (spec.ItemsFile is null)
        {
            throw new JobSpecException($"{where}: \"items\" (a JSON array) or \"itemsFile\" (a JSON Lines file) is required.");
        }

        var file = Path.GetFullPath(Path.Combine(folder, spec.ItemsFile));
        if (!File.Exists(file))
        {
            throw new JobSpecException($"{where}: \"itemsFile\" '{file}' does not exist (paths are relative to the spec file).");
        }

        try
        {
            var scanned = ItemsFile.Scan(file, chunkSize, check, keySelector);
            return (scanned, scanned);
        }
        catch (InvalidDataException error)
        {
            throw new JobSpecException(error.Message, error);
        }
    }

    private static string Describe(JsonException error)
    {
        if (!error.Message.Contains("could not be mapped", StringComparison.Ordinal))
        {
            return $"{error.Message}";
        }

        // System.Text.Json: "The JSON property 'x' could not be mapped to any .NET member contained in type ..."
        var start = error.Message.IndexOf('\'', StringComparison.Ordinal);
        var end = error.Message.IndexOf('\'', start + 1);
        var field = end > start ? error.Message[(start + 1)..end] : "?";
        var at = error.Path ?? "$";
        var valid = at.Contains("settings", StringComparison.OrdinalIgnoreCase)
            ? $"Valid settings: {SettingNames.Valid}."
            : at.Contains("operation", StringComparison.OrdinalIgnoreCase)
                ? "Valid operation fields: kind, command, args, workingDirectory, env (exec); method, url, headers, body (http); provider, connection, table, mode, key, columns, ignoreUnmapped, updateColumns, maxAffected, backup (sql)."
                : "Valid fields: name, description, tags, items, itemsFile, itemSchema, key, operation, settings.";
        return $"unknown field \"{field}\" at {at}. {valid}";
    }
}
