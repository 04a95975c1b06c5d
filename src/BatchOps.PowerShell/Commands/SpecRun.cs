using System.Text.Json;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Hosting;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Operations.Spec;
using BatchOps.PowerShell.Scripting;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// A job made from a spec (exec, http or sql, or stages that are none of them script blocks) run by the module:
/// the operations library's request (the one batchops runs), its JSON items and text outputs carried through
/// the module's object-typed run. Results show the item as its JSON text, as Get-BatchItem does.
/// </summary>
internal static class SpecRun
{
    /// <summary>Whether <paramref name="job"/> was made from a spec and runs through the operations library.</summary>
    public static bool IsSpecJob(JobRecord job) => job.Stages is null
        ? job.OperationKind is "exec" or "http"
        : job.Stages.All(s => s.OperationKind != ScriptOperationSpec.Kind && s.Undo?.OperationKind != ScriptOperationSpec.Kind);

    /// <summary>Whether <paramref name="job"/> is a spec job with PowerShell script-block stages beside stages of other kinds (JSON items, text outputs).</summary>
    public static bool IsMixedJob(JobRecord job) =>
        job.Stages is not null && job.InputFormat == JsonPayloadCodec.Instance.Format &&
        job.Stages.Any(s => s.OperationKind == ScriptOperationSpec.Kind || s.Undo?.OperationKind == ScriptOperationSpec.Kind);

    /// <summary>
    /// The run of a stored spec job whose stages mix script blocks (on the worker pools of <paramref name="plan"/>) and
    /// other kinds (through the operations library). A script block gets the JSON item as ConvertFrom-Json gives it, and what
    /// it returns is stored as text (strings as they are, objects as JSON), as the other kinds' outputs are.
    /// </summary>
    public static RunOperation FromMixedJob(JobRecord job, ScriptPlan plan)
    {
        var request = LoadedJobs.Request(job, leaveScriptBlocks: true);
        return new RunOperation(null, JsonBoxing.Items, JsonBoxing.Outputs, plan)
        {
            StageOperation = stage => stage.OperationKind == ScriptOperationSpec.Kind ? OverJson(plan.Forward(stage)) : Boxed(request.StageOperation!(stage)),
            Undo = stage => stage.Undo?.OperationKind == ScriptOperationSpec.Kind ? OverJsonUndo(plan.Undo(stage)) : BoxedUndo(request.Undo!(stage)),
            InputView = static input => input is JsonElement json ? json.GetRawText() : input,
        };
    }

    private static object? AsObject(object? item) => item is JsonElement json ? PSJson.FromElement(json) : item;

    private static BatchOperation<object?, object?> OverJson(BatchOperation<object?, object?> script) => script.PerChunkOperation is { } chunk
        ? BatchOperation<object?, object?>.PerChunk(async (items, ct) =>
            (await chunk([.. items.Select(i => new BatchItem<object?>(i.Index, AsObject(i.Value), i.Key))], ct).ConfigureAwait(false))?.Select(PSJson.ToText).ToArray())
        : BatchOperation<object?, object?>.PerItem(async (item, ct) =>
            PSJson.ToText(await script.PerItemOperation!(new BatchItem<object?>(item.Index, AsObject(item.Value), item.Key), ct).ConfigureAwait(false)));

    private static BatchOperation<Compensation<object?, object?>, object?> OverJsonUndo(BatchOperation<Compensation<object?, object?>, object?> undo) =>
        BatchOperation<Compensation<object?, object?>, object?>.PerItem(async (item, ct) =>
            PSJson.ToText(await undo.PerItemOperation!(
                new BatchItem<Compensation<object?, object?>>(item.Index, new Compensation<object?, object?>(AsObject(item.Value.Input), item.Value.Output), item.Key), ct).ConfigureAwait(false)));

    /// <summary>The run of a stored spec job; throws <see cref="JobSpecException"/> when its definitions no longer compile.</summary>
    public static RunOperation FromJob(JobRecord job)
    {
        var request = LoadedJobs.Request(job);
        return new RunOperation(request.Operation is { } forward ? Boxed(forward) : null, JsonBoxing.Items, JsonBoxing.Outputs, Nothing.Instance)
        {
            StageOperation = request.StageOperation is { } stages ? stage => Boxed(stages(stage)) : null,
            Undo = request.Undo is { } undo ? stage => BoxedUndo(undo(stage)) : null,
            InputView = static input => input is JsonElement json ? json.GetRawText() : input,
        };
    }

    private static BatchOperation<object?, object?> Boxed(BatchOperation<JsonElement, string?> operation) => operation.PerChunkOperation is { } chunk
        ? BatchOperation<object?, object?>.PerChunk((items, ct) => JsonBoxing.RunChunkAsync(chunk, items, ct))
        : BatchOperation<object?, object?>.PerItem(async (item, ct) => await operation.PerItemOperation!(JsonBoxing.Unbox(item), ct).ConfigureAwait(false));

    private static BatchOperation<Compensation<object?, object?>, object?> BoxedUndo(BatchOperation<Compensation<JsonElement, string?>, string?> undo) =>
        BatchOperation<Compensation<object?, object?>, object?>.PerItem(async (item, ct) =>
            await undo.PerItemOperation!(new BatchItem<Compensation<JsonElement, string?>>(item.Index, new Compensation<JsonElement, string?>((JsonElement)item.Value.Input!, (string?)item.Value.Output), item.Key), ct).ConfigureAwait(false));

    private sealed class Nothing : IDisposable
    {
        public static readonly Nothing Instance = new();

        public void Dispose()
        {
        }
    }
}
