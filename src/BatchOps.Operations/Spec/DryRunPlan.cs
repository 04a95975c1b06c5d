using System.Globalization;

namespace BatchOps.Operations.Spec;

/// <summary>
/// The dry run of a spec for exec and http, for both front ends (<c>batchops run SPEC --dry-run</c>,
/// Invoke-BatchJob -SpecPath -WhatIf): the spec and every item were checked when it was loaded; the lines
/// say what the checks would do, the plan, and the fully rendered operation of the first few items (secrets
/// masked, what items hold escaped for a terminal). Runs nothing and creates no job.
/// </summary>
public static class DryRunPlan
{
    /// <summary>How many items are shown rendered.</summary>
    public const int Shown = 3;

    /// <summary>The dry run's lines, in order.</summary>
    public static IEnumerable<string> Lines(LoadedJob loaded)
    {
        ArgumentNullException.ThrowIfNull(loaded);
        foreach (var line in Checks(loaded))
        {
            yield return line;
        }

        if (loaded.Stages is { } stages)
        {
            foreach (var line in Staged(loaded, stages))
            {
                yield return line;
            }

            yield break;
        }

        var options = loaded.Definition.Settings.ToOptions();
        var count = loaded.Items.Count;
        var chunks = (count + options.ChunkSize - 1) / options.ChunkSize;
        yield return string.Create(CultureInfo.InvariantCulture,
            $"Dry run of '{loaded.Definition.Name}' ({loaded.Operation.Kind}): {count} item(s), every one checked; {chunks} chunk(s) of up to {options.ChunkSize}, {options.ThrottleLimit} at a time; {Policies(options)}. Nothing was run or created.");
        var index = 0L;
        foreach (var item in loaded.Items.Take(Shown))
        {
            var key = loaded.KeySelector?.Invoke(item);
            yield return key is null ? $"item {index}:" : $"item {index} ({TerminalText.Escape(key)}):";
            foreach (var line in loaded.Operation.Render(item, index) ?? [])
            {
                yield return $"  {TerminalText.Escape(line)}";
            }

            index++;
        }

        if (count > Shown)
        {
            yield return $"… and {count - Shown} more item(s).";
        }
    }

    /// <summary>A staged spec: the stages in the order they would start, each with its items, concurrency and first items rendered.</summary>
    private static IEnumerable<string> Staged(LoadedJob loaded, IReadOnlyList<LoadedStage> stages)
    {
        var order = Engine.Jobs.StageOrder.Sort([.. stages.Select(s => s.Stage)]);
        yield return string.Create(CultureInfo.InvariantCulture,
            $"Dry run of '{loaded.Definition.Name}': {stages.Count} stage(s), {loaded.Items.Count} item(s), every one checked; on failure: {(loaded.Definition.Settings.OnFailure ?? Engine.Jobs.FailureAction.Continue).ToString().ToLowerInvariant()}. Nothing was run or created.");
        var step = 1;
        foreach (var stage in order)
        {
            var loadedStage = stages.First(s => s.Stage.Name == stage.Name);
            var options = stage.Settings.Over(loaded.Definition.Settings).ToOptions();
            var after = stage.DependsOn.Count == 0 ? "no dependencies" : $"after {string.Join(", ", stage.DependsOn)}";
            yield return string.Create(CultureInfo.InvariantCulture,
                $"{step++}. stage {stage.Name} ({loadedStage.Operation.Kind}, {after}): {stage.Count} item(s) in chunks of up to {options.ChunkSize}, {options.ThrottleLimit} at a time; {Policies(options)}{(stage.Undo is null ? "; no undo" : $"; undo: {loadedStage.Undo!.Kind}")}");
            var index = stage.FirstIndex;
            foreach (var item in loadedStage.Items.Take(Shown))
            {
                var key = loadedStage.KeySelector?.Invoke(item);
                yield return key is null ? $"   item {index}:" : $"   item {index} ({TerminalText.Escape(key)}):";
                var lines = loadedStage.Operation.Render(item, new ItemContext(index, Stage: stage.Name, Key: key));
                foreach (var line in lines ?? ["(sql: the rows are checked against the database when the stage runs)"])
                {
                    yield return $"     {TerminalText.Escape(line)}";
                }

                index++;
            }

            if (stage.Count > Shown)
            {
                yield return $"   … and {stage.Count - Shown} more item(s).";
            }
        }
    }

    /// <summary>What the checks would do to the items: duplicates dropped, invalid items recorded Failed.</summary>
    private static IEnumerable<string> Checks(LoadedJob loaded)
    {
        if (loaded.Dropped > 0)
        {
            yield return $"{loaded.Dropped} item(s) would be dropped: an earlier item has the same key (\"dedupe\": \"first\").";
        }

        if (loaded.Invalid.Count > 0)
        {
            yield return $"{loaded.Invalid.Count} item(s) do not match \"itemSchema\" and would be recorded Failed (ValidationError), never run:";
            foreach (var invalid in loaded.Invalid.Take(ItemSchema.Listed))
            {
                yield return $"  item {invalid.Index}: {TerminalText.Escape(invalid.Message)}";
            }
        }
    }

    private static string Policies(Engine.Execution.BatchOptions options)
    {
        var parts = new List<string> { options.RetryCount == 0 ? "no retries" : string.Create(CultureInfo.InvariantCulture, $"{options.RetryCount} retr{(options.RetryCount == 1 ? "y" : "ies")}") };
        if (options.Timeout is { } timeout)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{timeout.TotalSeconds:0.###} s per attempt"));
        }

        if (options.RateLimit is { } rate)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"at most {rate:0.###} per second"));
        }

        if (options.StopOnError)
        {
            parts.Add("stop on the first error");
        }
        else if (options.MaxErrors is { } max)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"stop after {max} error(s)"));
        }

        return string.Join(", ", parts);
    }
}
