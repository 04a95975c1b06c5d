using BatchOps.Engine.Diagnostics;
using System.Collections.Concurrent;
using System.Diagnostics;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Logging;
using BatchOps.Engine.Store;

namespace BatchOps.Engine.Workers;

public sealed partial class JobWorker
{
    /// <summary>
    /// Chunks that ran faster than this are worth claiming ahead: the next claim's round trips would
    /// otherwise be a noticeable share of a chunk's time. Slower chunks are claimed when the last items of
    /// the one before have started, so a busy worker never sits on a chunk another worker could run now.
    /// </summary>
    private static readonly TimeSpan ClaimAheadBelow = TimeSpan.FromMilliseconds(50);

    /// <summary>Most chunks of one job in hand at once: running, waiting for the last items of the one before, or being recorded.</summary>
    private const int ChunksInFlight = 3;

    /// <summary>A claim this worker holds, with the stop source of its run (disposed with the job's run).</summary>
    private sealed class Held(ChunkClaim claim) : IDisposable
    {
        public ChunkClaim Claim { get; } = claim;

        public BatchStopSource Stop { get; } = new();

        /// <summary>Set by the heartbeat when another worker holds the chunk now: its results are late.</summary>
        public volatile bool Lost;

        public string Range => $"items {Claim.FirstIndex}-{Claim.LastIndex}";

        public void Dispose() => Stop.Dispose();
    }

    /// <summary>A claimed chunk with its unfinished items read.</summary>
    private sealed record Ready(Held Held, IReadOnlyList<StoredItem> Items);

    /// <summary>
    /// How the chunks of one stage run (the job's own, for a job without stages): operation, settings, error
    /// policy, and the ThrottleLimit slots its chunks share in this worker.
    /// </summary>
    private sealed record StagePlan(JobStage? Stage, BatchOptions Options, ChunkPolicy Policy, SemaphoreSlim Slots, OutputKeeping Keep);

    /// <summary>
    /// One chunk's items in the slots of its stage: they take them as the items of the chunk before free
    /// them. <see cref="AllStarted"/> completes once every item has one, the moment to claim the next chunk.
    /// </summary>
    private sealed class ChunkSlots : IItemSlots
    {
        private readonly SemaphoreSlim _shared;
        private readonly TaskCompletionSource _allStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _waiting;
        private long _ranTicks = -1;

        public ChunkSlots(SemaphoreSlim shared, int items)
        {
            _shared = shared;
            _waiting = items;
            if (items == 0)
            {
                _allStarted.SetResult();
            }
        }

        public Task AllStarted => _allStarted.Task;

        /// <summary>How long the chunk took to run (waits for slots included); null until it has run.</summary>
        public TimeSpan? RanFor
        {
            get => Volatile.Read(ref _ranTicks) is var ticks and >= 0 ? TimeSpan.FromTicks(ticks) : null;
            set => Volatile.Write(ref _ranTicks, value?.Ticks ?? -1);
        }

        public async ValueTask EnterAsync(CancellationToken cancellationToken)
        {
            await _shared.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (Interlocked.Decrement(ref _waiting) == 0)
            {
                _allStarted.TrySetResult();
            }
        }

        public void Exit() => _shared.Release();
    }

    /// <summary>One job as one worker slot runs it: claims, runs and records its chunks until none is left.</summary>
    private sealed class JobRun(JobWorker worker, JobRecord job, QueuedJobHandler handler, JobLog log) : IDisposable
    {
        private readonly ConcurrentDictionary<long, Held> _held = new();
        private readonly ConcurrentBag<Held> _all = [];
        private readonly ConcurrentDictionary<string, StagePlan> _plans = new(StringComparer.OrdinalIgnoreCase);
        private int _jobStop = -1;

        private StopMode? JobStop => Volatile.Read(ref _jobStop) is var mode and >= 0 ? (StopMode)mode : null;

        /// <summary>Whether the job was asked to stop (a cancel, or its error policy) while this run went on.</summary>
        public bool Stopping => JobStop is not null;

        /// <summary>
        /// Runs the job's chunks from <paramref name="first"/> (or from the next one it can claim, when null)
        /// until it has none left to claim, or the worker or the job stops.
        /// </summary>
        public async Task RunAsync(ChunkClaim? first, CancellationToken stopping, CancellationToken abandon)
        {
            var chunks = new List<Task>();
            Task<Ready?>? ahead = null;
            var fast = false;
            var current = first is null ? await ClaimAsync().ConfigureAwait(false) : await ReadAsync(Hold(first)).ConfigureAwait(false);
            try
            {
                while (current is not null)
                {
                    var slots = new ChunkSlots(PlanOf(current.Held.Claim.Stage).Slots, current.Items.Count);
                    var chunk = RunAndRecordAsync(current, slots, abandon);
                    chunks.Add(chunk);

                    // After a fast chunk the next is claimed while this one runs; otherwise once this one's
                    // items have all started, so its round trips overlap this one's last items, and its items
                    // take the slots those free.
                    if (fast)
                    {
                        ahead ??= ClaimAsync();
                    }

                    await Task.WhenAny(chunk, slots.AllStarted).ConfigureAwait(false);
                    chunks.RemoveAll(c => c.IsCompletedSuccessfully);
                    if (chunks.Find(c => c.IsFaulted) is { } failed)
                    {
                        await failed.ConfigureAwait(false);
                    }

                    if (stopping.IsCancellationRequested || abandon.IsCancellationRequested || JobStop is not null)
                    {
                        break;
                    }

                    ahead ??= ClaimAsync();
                    current = await ahead.ConfigureAwait(false);
                    ahead = null;
                    fast = slots.RanFor is { } ran && ran < ClaimAheadBelow;
                    if (chunks.Count >= ChunksInFlight)
                    {
                        await Task.WhenAny(chunks).ConfigureAwait(false);
                    }
                }
            }
            finally
            {
                if (ahead is not null && await ahead.ConfigureAwait(false) is { } unrun)
                {
                    await ReleaseAsync(unrun.Held, "given back unrun (the worker or the job is stopping)").ConfigureAwait(false);
                }

                await Task.WhenAll(chunks).ConfigureAwait(false);
            }
        }

        /// <summary>Runs one claimed chunk and records its outcomes (unless its claim was lost or abandoned).</summary>
        private async Task RunAndRecordAsync(Ready ready, ChunkSlots slots, CancellationToken abandon)
        {
            if (ready.Held.Lost)
            {
                Lose(ready.Held);
                return;
            }

            var clock = Stopwatch.GetTimestamp();
            var outcomes = await RunChunkAsync(ready, slots, abandon).ConfigureAwait(false);
            slots.RanFor = Stopwatch.GetElapsedTime(clock);
            if (outcomes is not null)
            {
                await RecordAsync(ready.Held, outcomes).ConfigureAwait(false);
            }
        }

        /// <summary>Renews every claim the run holds; marks the ones another worker took lost, and passes on a stop request.</summary>
        public async Task HeartbeatAsync(CancellationToken end)
        {
            while (!end.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(worker._options.HeartbeatInterval, worker._time, end).ConfigureAwait(false);
                    foreach (var held in _held.Values)
                    {
                        var state = await worker._queue.RenewAsync(held.Claim, worker._options.Lease, end).ConfigureAwait(false);

                        // A claim recorded meanwhile is no longer held, and its row is gone: that is not a loss.
                        if (!state.Held && _held.ContainsKey(held.Claim.Token))
                        {
                            held.Lost = true;
                            held.Stop.Stop(StopMode.Forced);
                        }

                        if (state.Stop is { } mode)
                        {
                            Interlocked.CompareExchange(ref _jobStop, (int)mode, -1);
                            foreach (var each in _held.Values)
                            {
                                each.Stop.Stop(mode);
                            }
                        }
                    }
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (StoreException)
                {
                    // A missed renewal is not fatal: the lease lasts several heartbeats.
                }
            }
        }

        private Held Hold(ChunkClaim claim)
        {
            var held = new Held(claim);
            if (JobStop is { } mode)
            {
                held.Stop.Stop(mode);
            }

            _all.Add(held);
            _held[claim.Token] = held;
            BatchTelemetry.ChunkClaimed(job.Name, claim.Stage is { } stage ? job.Stage(stage)?.OperationKind ?? job.OperationKind : job.OperationKind, claim.Claims > 1);
            worker.Report(claim.Claims > 1 ? WorkerEventKind.Reclaimed : WorkerEventKind.Claimed, job.Id, $"{held.Range} of '{job.Name}'" + (claim.Claims > 1 ? $" (claim {claim.Claims}: its last worker died or was late)" : string.Empty));
            return held;
        }

        /// <summary>Claims the job's next chunk with its unfinished items (one round trip); null when there is none (or the store failed, which is reported).</summary>
        private async Task<Ready?> ClaimAsync()
        {
            if (JobStop is not null)
            {
                return null;
            }

            try
            {
                // The kind was checked at the job's first claim; only a staged job's stages differ in kind.
                var kinds = job.Stages is null ? null : worker._options.Kinds;
                var next = await worker._queue.ClaimNextAsync(worker._identity, job.Id, kinds, worker._options.Lease, CancellationToken.None).ConfigureAwait(false);
                return next is null ? null : new Ready(Hold(next.Claim), next.Items);
            }
            catch (StoreException error)
            {
                worker.Report(WorkerEventKind.StoreError, job.Id, error.Message);
                return null;
            }
        }

        private async Task<Ready?> ReadAsync(Held held)
        {
            try
            {
                var items = new List<StoredItem>();
                var query = ItemQuery.Unfinished with { FirstIndex = held.Claim.FirstIndex, LastIndex = held.Claim.LastIndex, InputsOnly = true };
                await foreach (var item in worker._store.GetItemsAsync(job.Id, query, CancellationToken.None).ConfigureAwait(false))
                {
                    items.Add(item);
                }

                return new Ready(held, items);
            }
            catch (StoreException error)
            {
                worker.Report(WorkerEventKind.StoreError, job.Id, error.Message);
                await ReleaseAsync(held, null).ConfigureAwait(false);
                return null;
            }
        }

        /// <summary>Runs one chunk's items; returns their outcomes, or null when they must not be recorded (the claim was lost, or the worker abandoned it).</summary>
        private async Task<IReadOnlyList<ItemOutcome>?> RunChunkAsync(Ready ready, ChunkSlots slots, CancellationToken abandon)
        {
            var held = ready.Held;
            using var onAbandon = abandon.Register(() => held.Stop.Stop(StopMode.Forced));
            var plan = PlanOf(held.Claim.Stage);
            var options = plan.Options.Clone();
            options.ChunkSize = (int)Math.Min(BatchOptions.MaxChunkSize, held.Claim.LastIndex - held.Claim.FirstIndex + 1);
            options.ItemSlots = slots;
            IReadOnlyList<ItemOutcome> outcomes = [];
            await handler.RunAsync(
                plan.Stage,
                Stream(ready.Items),
                options,
                plan.Keep,
                held.Stop,
                recorded =>
                {
                    outcomes = recorded;
                    return default;
                },
                (index, key, error) => log.Failure(index, key, error),
                CancellationToken.None).ConfigureAwait(false);

            if (held.Lost)
            {
                Lose(held);
                return null;
            }

            if (abandon.IsCancellationRequested)
            {
                await ReleaseAsync(held, "given back unrecorded (worker stopping)").ConfigureAwait(false);
                return null;
            }

            return outcomes;
        }

        /// <summary>The plan of a chunk's stage (null: the job has none), built at the stage's first chunk.</summary>
        private StagePlan PlanOf(string? stageName) => _plans.GetOrAdd(stageName ?? string.Empty, name =>
        {
            var stage = name.Length == 0 ? null : job.Stage(name) ?? throw new StoreException($"Job '{job.Name}' ({job.Id}) has no stage '{name}', which a queued chunk names.");
            var settings = stage is null ? job.Settings : stage.Settings.Over(job.Settings);
            var options = ChunkOptions(worker, job, settings);
            options.Tags = new RunTags(job.Name, stage?.OperationKind ?? job.OperationKind);
            return new StagePlan(stage, options, new ChunkPolicy(settings.StopOnError ?? false, settings.MaxErrors), new SemaphoreSlim(options.ThrottleLimit), settings.KeepOutput ?? OutputKeeping.All);
        });

        /// <summary>
        /// The job's (or its stage's) settings as every chunk uses them: no total or job timeout (a chunk is
        /// part of a job that spans workers), and the rate limit held across workers through the database.
        /// </summary>
        private static BatchOptions ChunkOptions(JobWorker worker, JobRecord job, JobSettings settings)
        {
            var options = settings.ToOptions(worker._time);
            options.TotalCount = null;
            options.JobTimeout = null;
            if (options.RateLimit is { } rate)
            {
                options.StartGate = new SharedRateGate(worker._queue, job.Id, rate, worker._time);
                options.RateLimit = null;
            }

            return options;
        }

        /// <summary>Records a chunk's outcomes with its claim's token; reports a loss when another worker holds it now.</summary>
        private async Task RecordAsync(Held held, IReadOnlyList<ItemOutcome> outcomes)
        {
            // Not renewed from here on: a renewal after the chunk is recorded (its row gone) would read as lost.
            _held.TryRemove(held.Claim.Token, out _);
            try
            {
                var plan = PlanOf(held.Claim.Stage);
                var started = Stopwatch.GetTimestamp();
                var recorded = await worker._queue.CompleteAsync(held.Claim, outcomes, plan.Policy, CancellationToken.None).ConfigureAwait(false);
                BatchTelemetry.CheckpointRecorded(Stopwatch.GetElapsedTime(started), plan.Options.Tags ?? RunTags.None);
                if (recorded)
                {
                    Interlocked.Increment(ref worker._recorded);
                }
                else
                {
                    Lose(held);
                }
            }
            catch (StoreException error)
            {
                worker.Report(WorkerEventKind.StoreError, job.Id, error.Message);
                await ReleaseAsync(held, null).ConfigureAwait(false);
            }
        }

        private void Lose(Held held)
        {
            _held.TryRemove(held.Claim.Token, out _);
            BatchTelemetry.ResultsDiscarded(job.Name, job.OperationKind);
            log.Info($"worker {worker._identity.Name}: {held.Range}: claim lost to another worker; these results were discarded");
            worker.Report(WorkerEventKind.Lost, job.Id, $"{held.Range}: the claim passed to another worker (lease expired); results discarded, not recorded twice");
        }

        /// <summary>Gives a claim back for another worker; <paramref name="why"/> null reports nothing (a store error was reported).</summary>
        private async Task ReleaseAsync(Held held, string? why)
        {
            _held.TryRemove(held.Claim.Token, out _);
            await worker.ReleaseQuietlyAsync(held.Claim).ConfigureAwait(false);
            if (why is not null)
            {
                worker.Report(WorkerEventKind.Released, job.Id, $"{held.Range} {why}");
            }
        }

        /// <summary>Disposes the claims' stop sources; call after the heartbeat has ended.</summary>
        public void Dispose()
        {
            foreach (var held in _all)
            {
                held.Dispose();
            }

            foreach (var plan in _plans.Values)
            {
                plan.Slots.Dispose();
            }
        }

        private static async IAsyncEnumerable<StoredItem> Stream(IReadOnlyList<StoredItem> items)
        {
            foreach (var item in items)
            {
                yield return item;
            }

            await Task.CompletedTask.ConfigureAwait(false);
        }
    }
}
