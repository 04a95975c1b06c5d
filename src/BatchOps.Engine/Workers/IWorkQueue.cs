using BatchOps.Engine.Execution;
using BatchOps.Engine.Store;

namespace BatchOps.Engine.Workers;

/// <summary>
/// A store that hands a queued job's chunks to workers in any process on any host (the PostgreSQL store).
/// A claim is a lease with a token: renewed by the worker's heartbeat, taken over by another worker once it
/// expires, and checked when the outcomes are recorded, so a late worker's results are discarded rather
/// than recorded twice.
/// </summary>
public interface IWorkQueue
{
    /// <summary>
    /// Queues a stored job for workers: its unfinished items, in chunks of its chunk size, become claimable
    /// and the job is Queued (cleared of any stop request). A staged job's chunks are cut per stage (with the
    /// stage's chunk size and operation kind); a stage's chunks are claimable only once every stage it
    /// depends on has completed (<see cref="AdvanceStagesAsync"/>). Throws <see cref="StoreException"/> when
    /// the job cannot be queued (it runs, or it is rolling back).
    /// </summary>
    Task EnqueueAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Claims the oldest queued job's next unclaimed chunk (or one whose lease expired) of an operation kind
    /// in <paramref name="kinds"/>, skipping the jobs in <paramref name="exclude"/>; null when there is none.
    /// The job becomes Running.
    /// </summary>
    Task<ChunkClaim?> ClaimAsync(WorkerIdentity worker, IReadOnlyCollection<string> kinds, IReadOnlyCollection<string> exclude, TimeSpan lease, CancellationToken cancellationToken = default);

    /// <summary>
    /// Claims the next unclaimed chunk of one job of an operation kind in <paramref name="kinds"/> (any kind
    /// when null: a job without stages has one) (or one of its chunks whose lease expired), lowest index first, with its unfinished items (index, key, input) in index order; null when the job has none or
    /// was asked to stop. What a worker running the job calls to go on.
    /// </summary>
    Task<ClaimedChunk?> ClaimNextAsync(WorkerIdentity worker, string jobId, IReadOnlyCollection<string>? kinds, TimeSpan lease, CancellationToken cancellationToken = default);

    /// <summary>Renews a claim's lease; says whether it is still held and whether the job was asked to stop.</summary>
    Task<ClaimState> RenewAsync(ChunkClaim claim, TimeSpan lease, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records a claimed chunk's outcomes and ends the claim in one transaction, and applies the job's error
    /// policy across all workers (a failure with StopOnError, or MaxErrors reached, asks every worker to
    /// stop). False, recording nothing, when the claim was lost to another worker.
    /// </summary>
    Task<bool> CompleteAsync(ChunkClaim claim, IReadOnlyList<ItemOutcome> outcomes, ChunkPolicy policy, CancellationToken cancellationToken = default);

    /// <summary>Gives a claim back unrecorded (a worker shutting down): another worker runs the chunk.</summary>
    Task ReleaseAsync(ChunkClaim claim, CancellationToken cancellationToken = default);

    /// <summary>
    /// Ends the job when nothing of it is claimable or claimed any more: Completed, CompletedWithErrors or
    /// Failed from its counts, Cancelled after a stop request, Failed with the reason after an error policy
    /// stop. A job that rolls back on failure (OnFailure Rollback) and needs to is not ended but handed over
    /// to its rollback, marked <see cref="JobRecord.RollingBack"/>: the caller then runs the compensation as a
    /// resume (which takes the job's lease and ends it RolledBack or RollbackFailed). Returns the ended (or
    /// handed over) job, or null when it still has work (or had already ended).
    /// </summary>
    Task<JobRecord?> TryFinishAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Moves a queued staged job on, under the job's lock: each stage waiting on dependencies whose chunks are
    /// all recorded either opens (every dependency completed: its chunks become claimable) or is skipped (a
    /// dependency did not complete: its unfinished items are recorded Skipped with
    /// <see cref="Jobs.JobRunner.DependencyNotCompleted"/> and its chunks dropped), in dependency order, so a
    /// skip reaches the stages after it at once. Returns what changed; nothing for a job without stages, or
    /// one asked to stop (its waiting stages stay as they are for the next queueing).
    /// </summary>
    Task<IReadOnlyList<StageChange>> AdvanceStagesAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Queued jobs that no worker can claim a chunk of and no worker holds a chunk of: their last worker
    /// ended (or died) before moving the job on, or their stages wait to be opened. What an idle worker
    /// looks at, then calls <see cref="AdvanceStagesAsync"/> and <see cref="TryFinishAsync"/> for.
    /// </summary>
    Task<IReadOnlyList<string>> StalledJobsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes the next <paramref name="count"/> consecutive start slots of the job's global rate limit (one
    /// start per <paramref name="interval"/> across every worker) and returns how far ahead of now the first
    /// lies, measured on the database's clock (negative: already due); slot k starts k intervals after it.
    /// </summary>
    Task<TimeSpan> TakeRateSlotsAsync(string jobId, TimeSpan interval, int count, CancellationToken cancellationToken = default);

    /// <summary>
    /// Announces a running worker, or renews its presence (last seen now, chunks recorded so far), and
    /// returns whether it has been asked to stop (<see cref="AskWorkersToStopAsync"/>). Workers not seen for
    /// a day are forgotten here.
    /// </summary>
    Task<bool> ReportWorkerAsync(WorkerPresence presence, CancellationToken cancellationToken = default);

    /// <summary>
    /// Asks running workers to stop, from any host: each reads it at its next presence beat, claims nothing
    /// more and finishes the chunks it holds. Returns the ids of the workers asked (those still listed).
    /// </summary>
    Task<IReadOnlyList<string>> AskWorkersToStopAsync(IReadOnlyCollection<string> workerIds, CancellationToken cancellationToken = default);

    /// <summary>Removes a worker that stopped (it holds no chunk any more).</summary>
    Task RemoveWorkerAsync(string workerId, CancellationToken cancellationToken = default);

    /// <summary>
    /// The workers the store knows, oldest first: running ones, and for a day the ones that went missing
    /// (not seen for longer than their lease), with the chunks and jobs held under their name now.
    /// </summary>
    Task<IReadOnlyList<WorkerInfo>> ListWorkersAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The chunks claimable now (unclaimed, or their lease ran out) of every queued or running job not asked
    /// to stop, counted per job and operation kind, oldest job first; only <paramref name="jobId"/>'s when
    /// given. Chunks of stages still waiting on their dependencies are not claimable yet and not counted.
    /// What <see cref="WaitingWork.FindAsync"/> holds against the running workers' kinds.
    /// </summary>
    Task<IReadOnlyList<OpenWork>> ListOpenWorkAsync(string? jobId = null, CancellationToken cancellationToken = default);
}

/// <summary>Claimable chunks of one job and one operation kind (<see cref="IWorkQueue.ListOpenWorkAsync"/>).</summary>
/// <param name="JobId">The job.</param>
/// <param name="JobName">Its name.</param>
/// <param name="Kind">The operation kind its chunks need (a stage's kind for a staged job).</param>
/// <param name="Chunks">How many of its chunks of that kind wait to be claimed.</param>
public sealed record OpenWork(string JobId, string JobName, string Kind, long Chunks);

/// <summary>One claimed chunk: a job's index range, and the token that proves the claim is still this worker's.</summary>
/// <param name="JobId">The job.</param>
/// <param name="FirstIndex">First index of the range.</param>
/// <param name="LastIndex">Last index of the range.</param>
/// <param name="Token">Unique per claim; a later claim of the same chunk gets another.</param>
/// <param name="Claims">How many times the chunk has been claimed (more than 1: a worker died or was late).</param>
/// <param name="Stage">The stage the chunk belongs to; null for a job without stages.</param>
public sealed record ChunkClaim(string JobId, long FirstIndex, long LastIndex, long Token, int Claims, string? Stage = null);

/// <summary>One stage of a queued job moved on by <see cref="IWorkQueue.AdvanceStagesAsync"/>.</summary>
/// <param name="Stage">The stage's name.</param>
/// <param name="Opened">True: its chunks became claimable. False: it was skipped.</param>
/// <param name="Count">Opened: how many chunks became claimable. Skipped: how many items were recorded Skipped.</param>
/// <param name="Message">What happened, as a line for a worker's output and the job's log.</param>
public sealed record StageChange(string Stage, bool Opened, long Count, string Message);

/// <summary>A claim with the chunk's unfinished items (index, key and input only).</summary>
/// <param name="Claim">The claim.</param>
/// <param name="Items">The chunk's items not yet recorded as ended, in index order.</param>
public sealed record ClaimedChunk(ChunkClaim Claim, IReadOnlyList<StoredItem> Items);

/// <summary>Who claims: a worker's name, host and process.</summary>
public sealed record WorkerIdentity(string Name, string Host, int ProcessId)
{
    /// <summary>This process as a worker named <paramref name="name"/> (default: host:pid).</summary>
    public static WorkerIdentity ForCurrentProcess(string? name = null) =>
        new(string.IsNullOrWhiteSpace(name) ? $"{Environment.MachineName}:{Environment.ProcessId}" : name, Environment.MachineName, Environment.ProcessId);
}

/// <summary>What a renewal found: whether the claim is still held, and a stop the job was asked for.</summary>
public readonly record struct ClaimState(bool Held, StopMode? Stop);

/// <summary>The job's error policy, applied across every worker when a chunk is recorded.</summary>
public readonly record struct ChunkPolicy(bool StopOnError, int? MaxErrors);
