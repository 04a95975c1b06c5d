using System.Text.Json;
using BatchOps.Operations;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

namespace BatchOps.Operations.Spec;

/// <summary>
/// What every front end of batchops (run, the server's posted specs) does with a checked spec: create the
/// job, and rebuild how a stored job runs from what the store keeps.
/// </summary>
public static class LoadedJobs
{
    /// <summary>
    /// Creates the job of a checked spec: a staged job with each stage's keys, a job over an items file kept
    /// in place, or inline items, with the items that missed the schema ("invalidItems": "fail") recorded
    /// Failed, so they never run; all of it before the job exists for anyone else (<see cref="JobCreation"/>).
    /// </summary>
    public static async Task<JobRecord> CreateAsync(JobRunner runner, LoadedJob loaded, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(loaded);
        var now = DateTimeOffset.UtcNow;
        IReadOnlyList<ItemOutcome> invalid = [.. loaded.Invalid.Select(v => new ItemOutcome(
            v.Index, ItemStatus.Failed, 0, null, new ItemError(ItemError.ValidationErrorType, v.Message, null, isRetryable: false), null, now, TimeSpan.Zero))];
        return loaded switch
        {
            { Stages: { } stages } => await runner.CreateAsync(loaded.Definition, KeyedItems(stages), KeyedJson.Instance, TextPayloadCodec.Instance.Format, k => k.Key, cancellationToken, invalid).ConfigureAwait(false),
            { File: { } file } => await runner.CreateAsync(loaded.Definition, file, TextPayloadCodec.Instance.Format, cancellationToken, invalid).ConfigureAwait(false),
            _ => await runner.CreateAsync(loaded.Definition, loaded.Items, JsonPayloadCodec.Instance, TextPayloadCodec.Instance.Format, loaded.KeySelector, cancellationToken, invalid).ConfigureAwait(false),
        };
    }

    /// <summary>
    /// How to run a stored job from its stored definitions: the operation (one per stage of a staged job) and
    /// the undo of each stage that has one, all compiled here, so a definition that no longer compiles (or a
    /// kind only another front end runs) throws <see cref="JobSpecException"/> before anything runs.
    /// </summary>
    /// <param name="job">The stored job.</param>
    /// <param name="leaveScriptBlocks">
    /// Compile every stage but PowerShell script blocks, whose operations then throw if asked for: a worker
    /// that claims only the kinds it hosts runs the other stages of a job that mixes them (the module runs the script blocks).
    /// </param>
    public static JobRunRequest<JsonElement, string?> Request(JobRecord job, bool leaveScriptBlocks = false)
    {
        ArgumentNullException.ThrowIfNull(job);
        var operations = new Dictionary<string, CompiledOperation>(StringComparer.OrdinalIgnoreCase);
        var undos = new Dictionary<string, CompiledOperation>(StringComparer.OrdinalIgnoreCase);
        bool Left(string kind) => leaveScriptBlocks && kind == OperationSpec.ScriptBlock;
        foreach (var stage in job.Plan)
        {
            if (!Left(stage.OperationKind))
            {
                operations[stage.Name] = job.Stages is null ? OperationFactory.FromJob(job) : OperationFactory.FromStage(job, stage);
            }

            if (stage.Undo is not null && !Left(stage.Undo.OperationKind))
            {
                undos[stage.Name] = OperationFactory.FromStage(job, stage, undo: true);
            }
        }

        string? StageName(JobStage stage) => job.Stages is null ? null : stage.Name;
        return new JobRunRequest<JsonElement, string?>
        {
            Operation = job.Stages is null ? operations[string.Empty].ToBatchOperation(job.Id) : null,
            StageOperation = stage => operations.TryGetValue(stage.Name, out var operation)
                ? operation.ToBatchOperation(job.Id, StageName(stage))
                : throw new JobSpecException(ScriptBlockOperation.OnlyInPowerShell(job, stage.Name)),
            Undo = stage => undos.TryGetValue(stage.Name, out var undo)
                ? undo.ToUndoOperation(job.Id, StageName(stage))
                : throw new JobSpecException(ScriptBlockOperation.OnlyInPowerShell(job, stage.Name)),
            InputCodec = JsonPayloadCodec.Instance,
            OutputCodec = TextPayloadCodec.Instance,
            Notifier = job.Notify is null ? null : Notifications.JobNotifier.Default,
        };
    }

    /// <summary>Every stage's items, one stage after another, each with its key from its own stage's key template.</summary>
    private static IEnumerable<(JsonElement Item, string? Key)> KeyedItems(IReadOnlyList<LoadedStage> stages) =>
        stages.SelectMany(s => s.Items.Select(item => (item, s.KeySelector?.Invoke(item))));

    /// <summary>Writes a keyed item as the JSON of the item alone: what a staged job's runs read back with the JSON codec.</summary>
    private sealed class KeyedJson : IPayloadCodec<(JsonElement Item, string? Key)>
    {
        public static KeyedJson Instance { get; } = new();

        public string Format => JsonPayloadCodec.Instance.Format;

        public string Serialize((JsonElement Item, string? Key) value) => JsonPayloadCodec.Instance.Serialize(value.Item);

        public (JsonElement Item, string? Key) Deserialize(string payload) => (JsonPayloadCodec.Instance.Deserialize(payload), null);
    }
}
