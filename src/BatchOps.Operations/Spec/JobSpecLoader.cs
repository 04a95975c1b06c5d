using System.Text.Json;
using System.Text.Json.Serialization;
using BatchOps.Operations;
using BatchOps.Engine.Config;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

namespace BatchOps.Operations.Spec;

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

        var settings = ResolveSettings(spec, where, settingsFile);
        if (spec.Stages is not null)
        {
            return LoadStaged(spec, where, folder, settings);
        }

        var operation = spec.Operation ?? throw new JobSpecException($"{where}: \"operation\" is required, with \"kind\" \"exec\", \"http\" or \"sql\" (or \"stages\", each with its own operation).");
        var compiled = OperationFactory.Compile(operation, folder, $"{where}: operation");
        var undo = spec.Undo is null ? null : OperationFactory.Compile(spec.Undo, folder, $"{where}: undo", undo: true);
        if (compiled is ScriptBlockOperation || undo is ScriptBlockOperation)
        {
            throw new JobSpecException($"{where}: kind \"scriptblock\" belongs in a stage (\"stages\"), beside stages of other kinds; a job of one script block is made in PowerShell (Invoke-BatchJob -ScriptBlock).");
        }

        CheckRollback(settings, undo is not null, where);
        var chunkSize = settings.ToOptions().ChunkSize;
        var (items, keySelector, file, invalid, dropped) = LoadItems(spec, compiled, undo, folder, where, chunkSize, keepFile: true);
        var definition = new JobDefinition
        {
            Name = spec.Name,
            Description = spec.Description,
            Tags = spec.Tags ?? [],
            Settings = settings,
            OperationKind = compiled.Kind,
            Operation = compiled.Definition,
            Undo = undo is null ? null : Undo(undo, spec.UndoSettings, settings, $"{where}: undoSettings"),
            Notify = Notifications.NotifyCheck.Check(spec.Notify, where),
        };
        return new LoadedJob(definition, items, keySelector, compiled, file) { Undo = undo, Invalid = invalid, Dropped = dropped };
    }

    private static JobSettings ResolveSettings(JobSpec spec, string where, SettingsFile settingsFile)
    {
        try
        {
            var settings = settingsFile.Resolve(spec.Name!, spec.Settings);
            if (spec.OnFailure is { } onFailure)
            {
                settings = settings with { OnFailure = onFailure };
            }

            if (spec.KeepOutput is { } keep)
            {
                settings = settings with { KeepOutput = keep };
            }

            _ = settings.ToOptions();
            return settings;
        }
        catch (ArgumentOutOfRangeException error)
        {
            var source = spec.Settings is not null && SettingNames.Explain(error) is { } text ? text : error.Message;
            throw new JobSpecException($"{where}: settings: {source}", error);
        }
    }

    private static JobSettings CheckSettings(JobSettings own, JobSettings below, string where)
    {
        try
        {
            _ = own.Over(below).ToOptions();
            return own;
        }
        catch (ArgumentOutOfRangeException error)
        {
            throw new JobSpecException($"{where}: {SettingNames.Explain(error)}", error);
        }
    }

    private static void CheckRollback(JobSettings settings, bool hasUndo, string where)
    {
        if (settings.OnFailure == FailureAction.Rollback && !hasUndo)
        {
            throw new JobSpecException($"{where}: \"onFailure\": \"rollback\" needs an \"undo\" operation (what undoes one succeeded item), or nothing could be rolled back. Add \"undo\", or remove \"onFailure\".");
        }

        if (hasUndo && settings.KeepOutput is OutputKeeping.Failed or OutputKeeping.None)
        {
            throw new JobSpecException($"{where}: \"keepOutput\": \"{settings.KeepOutput.ToString()!.ToLowerInvariant()}\" drops the outputs the \"undo\" operation reads ({{output}}). Remove \"keepOutput\" or set it to \"all\".");
        }
    }

    private static UndoDefinition Undo(CompiledOperation undo, JobSettings? undoSettings, JobSettings below, string where) => new()
    {
        OperationKind = undo.Kind,
        Operation = undo.Definition,
        Settings = CheckSettings(undoSettings ?? new JobSettings(), below, where),
    };

    /// <summary>
    /// Reads and checks one list of items: every item against the schema, the operations' placeholders and
    /// the key template, keys unique within the list. An items file is kept in place when <paramref name="keepFile"/>.
    /// </summary>
    private static CheckedItems LoadItems(
        ItemsSpec source, CompiledOperation compiled, CompiledOperation? undo, string folder, string where, int chunkSize, bool keepFile)
    {
        var key = source.Key is null ? null : Template.Parse(source.Key, $"{where}: key");
        if (key?.UsesJob == true)
        {
            throw new JobSpecException($"{where}: \"key\" cannot use {{jobId}} or {{idempotencyKey}}: the key names the item within its job (and is part of its idempotency key); build it from the item's fields.");
        }

        var failInvalid = source.InvalidItems switch
        {
            null or "reject" => false,
            "fail" => true,
            var other => throw new JobSpecException($"{where}: \"invalidItems\" is \"{other}\"; use \"reject\" (nothing is created when an item does not match \"itemSchema\") or \"fail\" (such items are recorded Failed and never run)."),
        };
        var dedupe = source.Dedupe switch
        {
            null => false,
            "first" => key is not null ? true : throw new JobSpecException($"{where}: \"dedupe\": \"first\" needs a \"key\" (items are duplicates when their keys are equal)."),
            var other => throw new JobSpecException($"{where}: \"dedupe\" is \"{other}\"; use \"first\" (keep the first item of each key) or leave it out (duplicate keys are rejected)."),
        };

        Func<JsonElement, string?>? keySelector = key is null ? null : item => key.Render(item, -1);
        var schema = ItemSchema.Load(source.ItemSchema, folder, where);
        var firstWithKey = new Dictionary<string, long>(StringComparer.Ordinal);
        var invalid = new List<InvalidItem>();
        var dropped = new List<long>();
        var (items, file) = ReadItems(source, folder, where, chunkSize, keySelector, (item, index) =>
        {
            // An item the schema rejects is listed with the others (or recorded Failed); nothing else is checked on top.
            if (failInvalid && schema?.Explain(item) is { } violation)
            {
                invalid.Add(new InvalidItem(index, violation));
                return;
            }

            if (schema?.Check(item, index) == false)
            {
                return;
            }

            compiled.Validate(item, index);
            undo?.Validate(item, index);
            key?.Validate(item, index);
            if (key?.Render(item, index) is { } itemKey && !firstWithKey.TryAdd(itemKey, index))
            {
                if (!dedupe)
                {
                    throw new JobSpecException(
                        $"{where}: items {firstWithKey[itemKey]} and {index} have the same key '{itemKey}' (from \"key\": \"{source.Key}\"). Keys name items and make their idempotency keys, so they must be unique: change the key or the items, or keep the first of each with \"dedupe\": \"first\".");
                }

                dropped.Add(index);
            }
        });
        schema?.ThrowIfViolated(where);
        if (dropped.Count == 0)
        {
            return new CheckedItems(items, keySelector, keepFile ? file : null, invalid, 0);
        }

        // Dropping items renumbers the rest: the job keeps copies (an items file's ranges no longer fit).
        var drop = dropped.ToHashSet();
        var kept = items.Where((_, i) => !drop.Contains(i)).ToList();
        var renumbered = invalid.Select(v => v with { Index = v.Index - dropped.Count(d => d < v.Index) }).ToList();
        return new CheckedItems(kept, keySelector, null, renumbered, dropped.Count);
    }

    /// <summary>A list of items after its checks: the items to record, their keys, the file they stay in (if kept there), the invalid ones and how many duplicates were dropped.</summary>
    private sealed record CheckedItems(IReadOnlyCollection<JsonElement> Items, Func<JsonElement, string?>? KeySelector, ItemsFile? File, List<InvalidItem> Invalid, int Dropped);

    /// <summary>
    /// A spec with "stages": each stage is checked like a spec of its own (items, operation, undo, key,
    /// schema, settings over the job's), then the dependencies (unknown names, cycles). Items are numbered
    /// across the stages in the order written; items files are copied into the store.
    /// </summary>
    private static LoadedJob LoadStaged(JobSpec spec, string where, string folder, JobSettings settings)
    {
        foreach (var (value, field) in new (object?, string)[] { (spec.Items, "items"), (spec.ItemsFile, "itemsFile"), (spec.Operation, "operation"), (spec.Key, "key"), (spec.ItemSchema, "itemSchema"), (spec.Undo, "undo"), (spec.UndoSettings, "undoSettings"), (spec.InvalidItems, "invalidItems"), (spec.Dedupe, "dedupe") })
        {
            if (value is not null)
            {
                throw new JobSpecException($"{where}: \"{field}\" belongs inside each stage when the spec has \"stages\"; move it into the stages that need it.");
            }
        }

        if (spec.Stages!.Count == 0)
        {
            throw new JobSpecException($"{where}: \"stages\" is empty; give at least one stage (name, items or itemsFile, operation).");
        }

        var stages = new List<LoadedStage>();
        var all = new List<JsonElement>();
        var allInvalid = new List<InvalidItem>();
        var allDropped = 0;
        for (var i = 0; i < spec.Stages.Count; i++)
        {
            var stageSpec = spec.Stages[i];
            var at = $"{where}: stages[{i}]";
            if (string.IsNullOrWhiteSpace(stageSpec.Name))
            {
                throw new JobSpecException($"{at}: \"name\" is required.");
            }

            at = $"{where}: stage '{stageSpec.Name}'";
            var operation = stageSpec.Operation ?? throw new JobSpecException($"{at}: \"operation\" is required, with \"kind\" \"exec\", \"http\" or \"sql\".");
            var compiled = OperationFactory.Compile(operation, folder, $"{at}: operation");
            var undo = stageSpec.Undo is null ? null : OperationFactory.Compile(stageSpec.Undo, folder, $"{at}: undo", undo: true);
            var own = CheckSettings(stageSpec.Settings ?? new JobSettings(), settings, $"{at}: settings");
            var chunkSize = own.Over(settings).ToOptions().ChunkSize;
            var (items, keySelector, _, invalid, dropped) = LoadItems(stageSpec, compiled, undo, folder, at, chunkSize, keepFile: false);
            allInvalid.AddRange(invalid.Select(v => v with { Index = v.Index + all.Count }));
            allDropped += dropped;
            var list = items as IReadOnlyList<JsonElement> ?? [.. items];
            var stage = new JobStage
            {
                Name = stageSpec.Name,
                DependsOn = stageSpec.DependsOn ?? [],
                FirstIndex = all.Count,
                Count = list.Count,
                OperationKind = compiled.Kind,
                Operation = compiled.Definition,
                Settings = own,
                Undo = undo is null ? null : Undo(undo, stageSpec.UndoSettings, own.Over(settings), $"{at}: undoSettings"),
            };
            all.AddRange(list);
            stages.Add(new LoadedStage(stage, list, keySelector, compiled, undo));
        }

        try
        {
            _ = StageOrder.Sort([.. stages.Select(s => s.Stage)]);
        }
        catch (ArgumentException error)
        {
            throw new JobSpecException($"{where}: {error.Message}", error);
        }

        CheckRollback(settings, stages.Any(s => s.Undo is not null), where);
        var definition = new JobDefinition
        {
            Name = spec.Name!,
            Description = spec.Description,
            Tags = spec.Tags ?? [],
            Settings = settings,
            OperationKind = StagesKind,
            Operation = "{}",
            Stages = [.. stages.Select(s => s.Stage)],
            Notify = Notifications.NotifyCheck.Check(spec.Notify, where),
        };
        return new LoadedJob(definition, all, null, stages[0].Operation) { Stages = stages, Invalid = allInvalid, Dropped = allDropped };
    }

    /// <summary>The operation kind recorded for a staged job (each stage has its own).</summary>
    public const string StagesKind = "stages";

    /// <summary>
    /// The spec's items, each handed to <paramref name="check"/> once. An items file is scanned line by
    /// line, never held in memory, in ranges of the job's chunk size (the job keeps those, not copies).
    /// </summary>
    private static (IReadOnlyCollection<JsonElement> Items, ItemsFile? File) ReadItems(ItemsSpec spec, string folder, string where, int chunkSize, Func<JsonElement, string?>? keySelector, Action<JsonElement, long> check)
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
                ? "Valid operation fields: kind, command, args, workingDirectory, env (exec); method, url, headers, body (http); provider, connection, table, mode, key, columns, ignoreUnmapped, updateColumns, maxAffected, backup (sql); script, importModule (scriptblock, in stages)."
                : "Valid fields: name, description, tags, items, itemsFile, itemSchema, invalidItems, key, dedupe, operation, undo, undoSettings, onFailure, stages, settings (a stage: name, dependsOn, items, itemsFile, itemSchema, invalidItems, key, dedupe, operation, undo, undoSettings, settings).";
        return $"unknown field \"{field}\" at {at}. {valid}";
    }
}
