using BatchOps.Engine.Execution;

namespace BatchOps.Engine.Jobs;

/// <summary>How to run a stored job: the operation, the codecs of its payloads, and who listens.</summary>
public sealed record JobRunRequest<TIn, TOut>
{
    /// <summary>The operation to run for each item (or chunk) of a job without stages.</summary>
    public BatchOperation<TIn, TOut>? Operation { get; init; }

    /// <summary>The operation of each stage of a staged job (built from <see cref="JobStage.Operation"/>).</summary>
    public Func<JobStage, BatchOperation<TIn, TOut>>? StageOperation { get; init; }

    /// <summary>
    /// The undo operation of a stage (for a job without stages, the unnamed stage of <see cref="Store.JobRecord.Plan"/>),
    /// built from its <see cref="UndoDefinition"/>: needed to roll back (OnFailure Rollback, a resumed rollback, an undo).
    /// </summary>
    public Func<JobStage, BatchOperation<Compensation<TIn, TOut>, TOut>>? Undo { get; init; }

    /// <summary>The front end's observer of compensations (results, progress) during a rollback or an undo.</summary>
    public BatchObserver<Compensation<TIn, TOut>, TOut>? UndoObserver { get; init; }

    /// <summary>
    /// The front end's observer for one stage of a staged job (say, a progress bar per stage); when null, or
    /// when it returns null, the stage reports to <see cref="Observer"/>.
    /// </summary>
    public Func<JobStage, BatchObserver<TIn, TOut>?>? StageObserver { get; init; }

    /// <summary>With <see cref="RunKind.RetryFailed"/> on a staged job: retry only this stage's failed items.</summary>
    public string? Stage { get; init; }

    /// <summary>Reads stored inputs; must match the job's <c>InputFormat</c>.</summary>
    public required IPayloadCodec<TIn> InputCodec { get; init; }

    /// <summary>Writes outputs for the store.</summary>
    public required IPayloadCodec<TOut> OutputCodec { get; init; }

    /// <summary>Which items to run. The default resumes.</summary>
    public RunKind Kind { get; init; } = RunKind.Resume;

    /// <summary>With <see cref="RunKind.RetryFailed"/>: only these failed items; null retries all.</summary>
    public IReadOnlyCollection<long>? Indexes { get; init; }

    /// <summary>The front end's observer (results, progress, retries); the store's checkpoints come first.</summary>
    public BatchObserver<TIn, TOut>? Observer { get; init; }

    /// <summary>Stop handle for the caller; requests from other processes arrive through it too.</summary>
    public BatchStopSource? Stop { get; init; }

    /// <summary>Settings for this run only, over the job's stored ones (explicit parameters of a resume).</summary>
    public JobSettings? SettingsOverride { get; init; }

    /// <summary>Called once the run holds the job's lease, with the job as stored (its id is known from here on).</summary>
    public Action<Store.JobRecord>? OnStarted { get; init; }

    /// <summary>
    /// For input streamed into a new job (RunNewAsync): whether the front end closed the input before its source
    /// ended (Ctrl+C closes a PowerShell pipeline's input), so the end the engine read is not the input's end
    /// and the job stays <see cref="Store.JobRecord.InputIncomplete"/>. Null: the end read is the input's end.
    /// </summary>
    public Func<bool>? InputCutShort { get; init; }

    /// <summary>
    /// The items file the job was just created from, still open in the caller's hands: when the job has not
    /// run any item yet, the run reads its items straight from the file instead of through the store. Any
    /// other run reads them through the store as usual. Items read from the file share pooled memory that is
    /// freed once their chunk is recorded: an <see cref="Observer"/> may read inputs until its
    /// OnChunkCompletedAsync for their chunk returns, and must copy what it keeps longer.
    /// </summary>
    public ItemsFile? ItemsFile { get; init; }

    /// <summary>Adjusts the engine options built from the job's settings (a retry predicate, a time source).</summary>
    public Action<BatchOptions>? Configure { get; init; }

    /// <summary>
    /// Sends the job's notices (<see cref="Store.JobRecord.Notify"/>) when the run ends it, and before it starts
    /// any its last end still owes (its sender died); null sends none.
    /// </summary>
    public Notifications.IJobNotifier? Notifier { get; init; }

    /// <summary>The forward operation of <paramref name="stage"/>.</summary>
    internal BatchOperation<TIn, TOut> OperationFor(JobStage stage) =>
        (string.IsNullOrEmpty(stage.Name) ? Operation : null) ?? StageOperation?.Invoke(stage) ?? Operation
        ?? throw new InvalidOperationException($"No operation was given for stage '{stage.Name}'.");
}
