using System.Runtime.CompilerServices;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Logging;
using BatchOps.Engine.Store;

namespace BatchOps.Engine.Jobs;

/// <summary>
/// Runs jobs durably: creates them with their items, takes the job's lease, feeds stored items to the
/// engine, commits each chunk's outcomes in one transaction, renews the lease and polls for stop requests
/// from other processes, and writes the job's log. Every front end (cmdlets, batchops) runs jobs through it.
/// </summary>
public sealed partial class JobRunner
{
    private const int CreateBatchSize = 1000;
    private readonly IJobStore _store;
    private readonly TimeProvider _time;
    private readonly string? _logFolder;

    /// <summary>Creates a runner over a store.</summary>
    /// <param name="store">Where jobs and outcomes are kept.</param>
    /// <param name="logFolder">Folder of the per-job log files; null writes no logs.</param>
    /// <param name="time">Clock for leases, timestamps and the engine; the default is the system clock.</param>
    public JobRunner(IJobStore store, string? logFolder = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _logFolder = logFolder;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>How often a running job renews its lease and looks for stop requests. The default is 1 second.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The store this runner writes to.</summary>
    public IJobStore Store => _store;

    /// <summary>
    /// Creates a job and records all its items as Pending, a thousand per transaction. Nothing runs yet.
    /// The settings are validated first, so a bad value is rejected before anything is stored. The job is
    /// there whole or not at all (<see cref="JobCreation"/>): it stays Creating until its last item is
    /// recorded and the <paramref name="initialOutcomes"/> (items recorded Failed at creation) are written.
    /// </summary>
    public Task<JobRecord> CreateAsync<TIn>(
        JobDefinition definition,
        IEnumerable<TIn> items,
        IPayloadCodec<TIn> inputCodec,
        string outputFormat,
        Func<TIn, string?>? keySelector = null,
        CancellationToken cancellationToken = default,
        IReadOnlyList<ItemOutcome>? initialOutcomes = null)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(inputCodec);
        return CreateWholeAsync(definition, inputCodec.Format, outputFormat, null, initialOutcomes, (job, beat) => RecordItemsAsync(job, items, inputCodec, keySelector, beat, cancellationToken), cancellationToken);
    }

    private async Task<long> RecordItemsAsync<TIn>(JobRecord job, IEnumerable<TIn> items, IPayloadCodec<TIn> inputCodec, Func<TIn, string?>? keySelector, Func<Task> beat, CancellationToken cancellationToken)
    {
        // Batches hold whole chunks (of each stage's chunk size, never across a stage's end), so each chunk
        // is one block record that a run can checkpoint whole.
        var stages = job.Stages ?? [];
        var stageAt = 0;
        var chunkSize = ChunkSizeOf(job, stages.Count > 0 ? stages[0] : null);
        var batchSize = Math.Max(1, CreateBatchSize / chunkSize) * chunkSize;
        var batch = new List<StoredItem>(batchSize);
        var firstFew = new List<string>(JobLog.DigestLength);
        long index = 0;
        foreach (var item in items)
        {
            while (stageAt < stages.Count && index > stages[stageAt].LastIndex)
            {
                if (batch.Count > 0)
                {
                    await _store.AddItemBlocksAsync(job.Id, batch, chunkSize, cancellationToken).ConfigureAwait(false);
                    await beat().ConfigureAwait(false);
                    batch.Clear();
                }

                stageAt++;
                chunkSize = ChunkSizeOf(job, stageAt < stages.Count ? stages[stageAt] : null);
                batchSize = Math.Max(1, CreateBatchSize / chunkSize) * chunkSize;
            }

            var stored = new StoredItem { Index = index++, Key = keySelector?.Invoke(item), Input = inputCodec.Serialize(item) };
            if (firstFew.Count < JobLog.DigestLength)
            {
                firstFew.Add(stored.Key ?? stored.Input);
            }

            batch.Add(stored);
            if (batch.Count == batchSize)
            {
                // Stores that write synchronously do not look at the token; Ctrl+C must still end a long creation.
                cancellationToken.ThrowIfCancellationRequested();
                await _store.AddItemBlocksAsync(job.Id, batch, chunkSize, cancellationToken).ConfigureAwait(false);
                await beat().ConfigureAwait(false);
                batch.Clear();
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (batch.Count > 0)
        {
            await _store.AddItemBlocksAsync(job.Id, batch, chunkSize, cancellationToken).ConfigureAwait(false);
        }

        if (stages.Count > 0 && index != stages[^1].LastIndex + 1)
        {
            throw new ArgumentException($"The stages hold {stages[^1].LastIndex + 1} item(s), but {index} were given; nothing was created.", nameof(items));
        }

        using (var log = JobLog.Open(_logFolder, job.Id, _time))
        {
            log.Info($"created job '{job.Name}' ({job.Id}); settings: {job.Settings}");
            log.Digest("items", firstFew, index);
        }

        return index;
    }

    /// <summary>
    /// Records the job Creating, then its items through <paramref name="record"/> (which calls the heartbeat
    /// it is given after each write), then the initial outcomes, then makes it Pending. Any failure on the way
    /// (a full disk, Ctrl+C, a bad item) removes what was recorded and says nothing was created; a killed
    /// process leaves a Creating job that the next open of the store removes.
    /// </summary>
    private async Task<JobRecord> CreateWholeAsync(
        JobDefinition definition,
        string inputFormat,
        string outputFormat,
        ItemsFileInfo? itemsFile,
        IReadOnlyList<ItemOutcome>? initialOutcomes,
        Func<JobRecord, Func<Task>, Task<long>> record,
        CancellationToken cancellationToken)
    {
        var job = await CreateJobAsync(definition, inputFormat, outputFormat, cancellationToken, itemsFile, creating: true).ConfigureAwait(false);
        var lease = job.Lease!;
        var lastBeat = _time.GetTimestamp();
        async Task Beat()
        {
            if (_time.GetElapsedTime(lastBeat) >= JobCreation.HeartbeatInterval)
            {
                lastBeat = _time.GetTimestamp();
                await _store.RenewLeaseAsync(job.Id, lease with { HeartbeatAt = _time.GetUtcNow() }, cancellationToken).ConfigureAwait(false);
            }
        }

        try
        {
            var count = await record(job, Beat).ConfigureAwait(false);
            if (initialOutcomes is { Count: > 0 })
            {
                await _store.CheckpointAsync(job.Id, initialOutcomes, cancellationToken).ConfigureAwait(false);
            }

            await _store.SetStatusAsync(job.Id, JobStatus.Pending, null, cancellationToken).ConfigureAwait(false);
            var counts = new ItemCounts { Pending = count - (initialOutcomes?.Count ?? 0), Failed = initialOutcomes?.Count(o => o.Status == ItemStatus.Failed) ?? 0 };
            return job with { Status = JobStatus.Pending, Lease = null, Counts = counts };
        }
        catch (Exception error)
        {
            await DiscardAsync(job).ConfigureAwait(false);
            if (error is StoreException { DiskFull: true })
            {
                throw new StoreException($"The disk holding the job store '{_store.Location}' is full, so job '{job.Name}' was not created: nothing of it was kept. Free space there and create it again.", error) { DiskFull = true };
            }

            throw;
        }
    }

    /// <summary>Removes a job whose creation failed; if even that fails (a full disk), it stays Creating, invisible, and the next open of the store removes it.</summary>
    private async Task DiscardAsync(JobRecord job)
    {
        try
        {
            await _store.RemoveJobAsync(job.Id, CancellationToken.None).ConfigureAwait(false);
        }
        catch (StoreException)
        {
            // Left Creating: no reader takes it, and the next open removes it once this process is gone.
        }
    }

    /// <summary>
    /// Creates a job over a checked JSON Lines items file without copying its items: the store keeps where
    /// each range of them is in the file (<see cref="ItemsFile.Ranges"/>), and reads them from there. Pass
    /// the file in <see cref="JobRunRequest{TIn, TOut}.ItemsFile"/> of the first run to read it once, in order.
    /// The file must stay where it is, unchanged, while the job's items are read (resume, show, export).
    /// </summary>
    public Task<JobRecord> CreateAsync(JobDefinition definition, ItemsFile file, string outputFormat, CancellationToken cancellationToken = default, IReadOnlyList<ItemOutcome>? initialOutcomes = null)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(file);
        var chunkSize = definition.Settings.ToOptions().ChunkSize;
        if (chunkSize != file.RangeSize)
        {
            throw new ArgumentException($"The items file was scanned in ranges of {file.RangeSize} items, but the job's chunk size is {chunkSize}; scan it with the chunk size.", nameof(file));
        }

        return CreateWholeAsync(definition, JsonPayloadCodec.Instance.Format, outputFormat, file.Source, initialOutcomes, async (job, beat) =>
        {
            foreach (var batch in file.Ranges.Chunk(Math.Max(1, CreateBatchSize / file.RangeSize)))
            {
                cancellationToken.ThrowIfCancellationRequested();
                await _store.AddItemRangesAsync(job.Id, file.Source, batch, cancellationToken).ConfigureAwait(false);
                await beat().ConfigureAwait(false);
            }

            using (var log = JobLog.Open(_logFolder, job.Id, _time))
            {
                log.Info($"created job '{job.Name}' ({job.Id}); settings: {job.Settings}");
                log.Info($"items: {file.Source.Path} ({file.Source.Length} bytes), kept in place, not copied");
                log.Digest("items", file.FirstItems, file.Count);
            }

            return file.Count;
        }, cancellationToken);
    }

    /// <summary>
    /// Runs a stored job: its unfinished items (resume) or its failed ones (retry). Returns when the run
    /// ends, whatever the outcome; throws <see cref="StoreException"/> when the job does not exist or a
    /// live process owns it, and <see cref="ArgumentOutOfRangeException"/> for invalid stored settings.
    /// </summary>
    public async Task<JobRunResult> RunAsync<TIn, TOut>(string jobId, JobRunRequest<TIn, TOut> request, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        ArgumentNullException.ThrowIfNull(request);
        var job = await _store.GetJobAsync(jobId, cancellationToken).ConfigureAwait(false)
            ?? throw new StoreException($"There is no job '{jobId}' in '{_store.Location}'. List the jobs with Get-BatchJob or 'batchops list'.");
        if (job.Status == JobStatus.Creating)
        {
            throw JobCreation.NotCreated(job, _time);
        }

        if (!string.Equals(job.InputFormat, request.InputCodec.Format, StringComparison.Ordinal))
        {
            throw new StoreException($"Job '{job.Name}' ({job.Id}) stores its inputs as '{job.InputFormat}', but this front end reads '{request.InputCodec.Format}'. Run it from the front end that created it.");
        }

        if (job.RollingBack && request.Kind == RunKind.RetryFailed)
        {
            throw new StoreException($"Job '{job.Name}' ({job.Id}) has been rolled back, so its failed items are not retried. Undo it again to retry failed compensations, or create a new job.");
        }

        var options = BuildOptions(job, request);
        var lease = await AcquireAsync(job, cancellationToken).ConfigureAwait(false);
        if (job.EndedAt is not null)
        {
            // What the last end still owes (its sender died before recording it), before this run moves the end.
            await NotifyAsync(job, request.Notifier, cancellationToken).ConfigureAwait(false);
        }

        return await RunLeasedAsync(job, lease, options, request, inputs: null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Creates a job over input that arrives as a stream (a PowerShell pipeline) and runs it at once: each
    /// chunk's items are recorded as Pending before they run, so a crash leaves them resumable. When the run
    /// stops before the stream ends (error policy, job timeout, a stop request), the rest of the stream is
    /// still read and recorded, Skipped or Cancelled, so a resume runs what the caller asked for and the
    /// writer of the stream is never left waiting.
    /// </summary>
    public async Task<JobRunResult> RunNewAsync<TIn, TOut>(
        JobDefinition definition,
        IAsyncEnumerable<TIn> inputs,
        JobRunRequest<TIn, TOut> request,
        Func<TIn, string?>? keySelector = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(request);
        if (definition.Stages is not null)
        {
            throw new ArgumentException("A staged job's items are recorded before it runs: create it with CreateAsync, then run it.", nameof(definition));
        }

        // Until the stream has ended, the job holds only part of what it was given (InputIncomplete).
        var job = await CreateJobAsync(definition, request.InputCodec.Format, request.OutputCodec.Format, cancellationToken, streamed: true).ConfigureAwait(false);
        var options = BuildOptions(job, request);
        var lease = await AcquireAsync(job, cancellationToken).ConfigureAwait(false);
        await using var stream = new StreamedInput<TIn>(inputs, keySelector, cancellationToken);
        return await RunLeasedAsync(job, lease, options, request, stream, cancellationToken).ConfigureAwait(false);
    }

    private static int ChunkSizeOf(JobRecord job, JobStage? stage) => (stage?.Settings.Over(job.Settings) ?? job.Settings).ToOptions().ChunkSize;

    /// <summary>
    /// Checks what a job's plan needs before anything is stored: valid settings for every stage and undo,
    /// stages that follow one another from index 0 with dependencies that form no cycle, and an undo
    /// operation somewhere when failures are to be rolled back.
    /// </summary>
    private static void CheckPlan(JobDefinition definition)
    {
        _ = definition.Settings.ToOptions();
        _ = definition.Undo?.Settings.Over(definition.Settings).ToOptions();
        if (definition.Stages is { } stages)
        {
            if (stages.Count == 0)
            {
                throw new ArgumentException("A staged job needs at least one stage.", nameof(definition));
            }

            long next = 0;
            foreach (var stage in stages)
            {
                if (stage.FirstIndex != next || stage.Count < 0)
                {
                    throw new ArgumentException($"Stage '{stage.Name}' starts at item {stage.FirstIndex}, but the stages before it end at {next}: stages hold consecutive runs of the job's items.", nameof(definition));
                }

                next += stage.Count;
                _ = stage.Settings.Over(definition.Settings).ToOptions();
                _ = stage.Undo?.Settings.Over(stage.Settings.Over(definition.Settings)).ToOptions();
            }

            _ = StageOrder.Sort(stages);
        }

        var canUndo = definition.Stages?.Any(s => s.Undo is not null) ?? definition.Undo is not null;
        static bool KeepsOutputs(JobSettings settings) => (settings.KeepOutput ?? OutputKeeping.All) == OutputKeeping.All;
        var undoWithoutOutputs = definition.Stages?.Any(s => s.Undo is not null && !KeepsOutputs(s.Settings.Over(definition.Settings)))
            ?? (definition.Undo is not null && !KeepsOutputs(definition.Settings));
        if (undoWithoutOutputs)
        {
            throw new ArgumentException("An undo operation reads each item's output ($BatchOutput, {output}), so a job that can be undone keeps its outputs: remove KeepOutput (\"keepOutput\" in a spec, -KeepOutput) or set it to All.", nameof(definition));
        }

        if (definition.Settings.OnFailure == FailureAction.Rollback && !canUndo)
        {
            throw new ArgumentException("OnFailure Rollback needs an undo operation (\"undo\" in a spec, -UndoScriptBlock), or nothing could be rolled back.", nameof(definition));
        }
    }

    private async Task<JobRecord> CreateJobAsync(JobDefinition definition, string inputFormat, string outputFormat, CancellationToken cancellationToken, ItemsFileInfo? itemsFile = null, bool creating = false, bool streamed = false)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentException.ThrowIfNullOrWhiteSpace(definition.Name, nameof(definition.Name));
        CheckPlan(definition);
        var job = new JobRecord
        {
            Id = JobRecord.NewId(),
            Name = definition.Name,
            Description = definition.Description,
            Tags = definition.Tags,
            Status = creating ? JobStatus.Creating : JobStatus.Pending,
            Lease = creating ? JobLease.ForCurrentProcess(_time.GetUtcNow()) : null,
            InputIncomplete = streamed,
            Settings = definition.Settings,
            OperationKind = definition.OperationKind,
            Operation = definition.Operation,
            InputFormat = inputFormat,
            OutputFormat = outputFormat,
            ItemsFile = itemsFile,
            Undo = definition.Undo,
            Notify = definition.Notify,
            Stages = definition.Stages,
            CreatedAt = _time.GetUtcNow(),
        };
        await _store.CreateJobAsync(job, cancellationToken).ConfigureAwait(false);
        return job;
    }

    private BatchOptions BuildOptions<TIn, TOut>(JobRecord job, JobRunRequest<TIn, TOut> request)
    {
        var options = (request.SettingsOverride?.Over(job.Settings) ?? job.Settings).ToOptions(_time);
        options.Tags = new Diagnostics.RunTags(job.Name, job.OperationKind);
        request.Configure?.Invoke(options);
        options.Validate();
        return options;
    }

    private async Task<JobLease> AcquireAsync(JobRecord job, CancellationToken cancellationToken)
    {
        var lease = JobLease.ForCurrentProcess(_time.GetUtcNow());
        if (!await _store.TryAcquireLeaseAsync(job.Id, lease, cancellationToken).ConfigureAwait(false))
        {
            var holder = (await _store.GetJobAsync(job.Id, cancellationToken).ConfigureAwait(false))?.Lease;
            throw new JobBusyException(
                $"Job '{job.Name}' ({job.Id}) is already running in process {holder?.ProcessId} on {holder?.Host}. Wait for it, or stop it first (Stop-BatchJob / 'batchops cancel {job.Id}').");
        }

        return lease;
    }

    private async Task<JobRunResult> RunLeasedAsync<TIn, TOut>(
        JobRecord job,
        JobLease lease,
        BatchOptions options,
        JobRunRequest<TIn, TOut> request,
        StreamedInput<TIn>? inputs,
        CancellationToken cancellationToken)
    {
        using var log = JobLog.Open(_logFolder, job.Id, _time);
        using var telemetry = Diagnostics.BatchTelemetry.StartJobRun(job.Id, job.Name, job.OperationKind, job.RollingBack ? "Rollback" : request.Kind.ToString());
        using var ownStop = request.Stop is null ? new BatchStopSource() : null;
        var stop = request.Stop ?? ownStop!;
        using var heartbeatStop = new CancellationTokenSource();
        JobSummary summary;
        JobSummary? rollback = null;
        try
        {
            job = (await _store.GetJobAsync(job.Id, cancellationToken).ConfigureAwait(false))!;
            request.OnStarted?.Invoke(job);
            var heartbeat = HeartbeatAsync(job.Id, lease, stop, log, heartbeatStop.Token);
            try
            {
                if (job.RollingBack)
                {
                    // A rollback that was stopped or interrupted goes on: nothing runs forward again.
                    log.Info("the job is rolling back: compensating the items not yet compensated");
                    summary = rollback = await CompensateAsync(job, request, stop, log, "resumed", cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    summary = job.Stages is null
                        ? await RunItemsAsync(job, options, request, inputs, stop, log, cancellationToken).ConfigureAwait(false)
                        : await RunStagesAsync(job, request, stop, log, cancellationToken).ConfigureAwait(false);
                    if (ShouldRollBack(job, request, summary, await CountsAsync(job.Id).ConfigureAwait(false)) is { } reason)
                    {
                        rollback = await CompensateAsync(job, request, stop, log, reason, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
            finally
            {
                await heartbeatStop.CancelAsync().ConfigureAwait(false);
                await heartbeat.ConfigureAwait(false);
            }
        }
        catch (Exception error)
        {
            // Never leave a job looking Running after a failure of our own: record why it stopped.
            await _store.ReleaseLeaseAsync(job.Id, lease, JobStatus.Failed, $"The run failed: {error.Message}", CancellationToken.None).ConfigureAwait(false);
            log.Info($"run failed: {error.GetType().FullName}: {error.Message}");
            telemetry.End(JobStatus.Failed, error.Message);
            throw;
        }

        var counts = await CountsAsync(job.Id).ConfigureAwait(false);
        JobStatus status;
        string? message;
        if (rollback is not null)
        {
            (status, message) = RollbackOutcome(counts, rollback);
        }
        else
        {
            status = summary.StopReason == StopReason.None ? counts.FinalStatus() : summary.Status;
            message = summary.Message ?? (status == JobStatus.Failed && counts.Unfinished > 0
                ? $"{counts.Unfinished} item(s) have not run; resume the job to run them."
                : null);
        }

        var inputIncomplete = job.InputIncomplete;
        if (inputs is not null && inputs.Ended && request.InputCutShort?.Invoke() != true)
        {
            await _store.EndInputAsync(job.Id, CancellationToken.None).ConfigureAwait(false);
            inputIncomplete = false;
        }
        else if (inputIncomplete)
        {
            log.Info(JobCreation.InputIncompleteMessage(counts.Total));
        }

        await _store.ReleaseLeaseAsync(job.Id, lease, status, message, CancellationToken.None).ConfigureAwait(false);
        telemetry.End(status, message);
        var final = JobCreation.ShowingInput(job with { Status = status, Message = message, Counts = counts, Lease = null, StopRequest = null, EndedAt = _time.GetUtcNow(), RollingBack = job.RollingBack || rollback is not null, InputIncomplete = inputIncomplete });
        if (rollback is not null)
        {
            log.Rollback(final);
        }

        log.End(final, summary);
        if (request.Notifier is not null && final.Notify is not null)
        {
            // As the store wrote the end (its clock, its precision): the notices are keyed by it.
            var stored = await _store.GetJobAsync(job.Id, CancellationToken.None).ConfigureAwait(false);
            await NotifyAsync(stored ?? final, request.Notifier, CancellationToken.None, log).ConfigureAwait(false);
        }

        return new JobRunResult(final, summary);
    }

    /// <summary>Sends what <paramref name="job"/>'s end owes, logging each notice; a notifier that throws is logged, never fails the run.</summary>
    private async Task NotifyAsync(JobRecord job, Notifications.IJobNotifier? notifier, CancellationToken cancellationToken, JobLog? log = null)
    {
        if (notifier is null || job.Notify is not { Count: > 0 } targets)
        {
            return;
        }

        using var own = log is null ? JobLog.Open(_logFolder, job.Id, _time) : null;
        var writer = log ?? own!;
        try
        {
            foreach (var notice in await notifier.NotifyAsync(_store, job, cancellationToken).ConfigureAwait(false))
            {
                writer.Info(Notifications.Notices.Describe(targets[notice.Target], notice));
            }
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            writer.Info($"notices not sent: {error.Message}");
        }
    }

    private async Task<ItemCounts> CountsAsync(string jobId) =>
        (await _store.GetJobAsync(jobId, CancellationToken.None).ConfigureAwait(false))!.Counts;

    /// <summary>Runs the items of a job without stages: a resume, a retry, or a stream being recorded as it arrives.</summary>
    private async Task<JobSummary> RunItemsAsync<TIn, TOut>(
        JobRecord job,
        BatchOptions options,
        JobRunRequest<TIn, TOut> request,
        StreamedInput<TIn>? inputs,
        BatchStopSource stop,
        JobLog log,
        CancellationToken cancellationToken)
    {
        RangeDocuments? documents = null;
        IAsyncEnumerable<BatchItem<TIn>> items;
        if (inputs is not null)
        {
            items = inputs.ItemsAsync();
            log.Start(job, RunKind.Resume, 0);
            log.Info("items arrive as a stream and are recorded chunk by chunk");
        }
        else
        {
            var query = ItemQuery.Unfinished;
            long count = job.Counts.Unfinished;
            if (request.Kind == RunKind.RetryFailed)
            {
                var reset = await _store.ResetFailedAsync(job.Id, await RetryableAsync(job.Id, request.Indexes, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
                query = new ItemQuery { Indexes = reset };
                count = reset.Count;
            }

            options.TotalCount = count;
            log.Start(job, request.Kind, count);
            if (request.ItemsFile is { } file && IsFirstRunOf(job, file, request.Kind))
            {
                documents = new RangeDocuments();
                items = BatchInput.From(file.Read(request.InputCodec, documents));
                log.Info($"items are read straight from {file.Source.Path}");
            }
            else
            {
                items = ReadItemsAsync(job.Id, query with { InputsOnly = true }, request.InputCodec, cancellationToken);
            }
        }

        try
        {
            // What the job was created with, on every run of it: a resume or retry keeps what the first run kept.
            var keep = job.Settings.KeepOutput ?? OutputKeeping.All;
            var observer = new DurableObserver<TIn, TOut>(_store, job.Id, request.OutputCodec, request.Observer, log, recordItems: inputs is not null, request.InputCodec, documents, options.Tags, keep);
            var operation = request.Operation ?? throw new InvalidOperationException("JobRunRequest.Operation is required for a job without stages.");
            var summary = await BatchExecutor.RunAsync(items, operation, options, observer, stop, cancellationToken).ConfigureAwait(false);
            if (inputs is not null && summary.StopReason != StopReason.None)
            {
                summary = await RecordUnreadAsync(job.Id, inputs, summary, request, log, cancellationToken).ConfigureAwait(false);
            }

            return summary;
        }
        finally
        {
            documents?.Dispose();
        }
    }

    /// <summary>
    /// Reads what is left of a streamed input after the run stopped and records it, a thousand items per
    /// transaction, as never started (Skipped, or Cancelled after a stop request), reporting each item to
    /// the front end like the items the engine skipped.
    /// </summary>
    private async Task<JobSummary> RecordUnreadAsync<TIn, TOut>(
        string jobId,
        StreamedInput<TIn> inputs,
        JobSummary summary,
        JobRunRequest<TIn, TOut> request,
        JobLog log,
        CancellationToken cancellationToken)
    {
        var status = summary.StopReason == StopReason.Cancelled ? ItemStatus.Cancelled : ItemStatus.Skipped;
        var first = summary.Total;
        var index = first;
        var items = new List<StoredItem>(CreateBatchSize);
        var outcomes = new List<ItemOutcome>(CreateBatchSize);
        async Task FlushAsync()
        {
            await _store.AddItemsAsync(jobId, items, cancellationToken).ConfigureAwait(false);
            await _store.CheckpointAsync(jobId, outcomes, cancellationToken).ConfigureAwait(false);
            items.Clear();
            outcomes.Clear();
        }

        try
        {
            await foreach (var item in inputs.RestAsync().WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                var now = _time.GetUtcNow();
                index = item.Index + 1;
                items.Add(new StoredItem { Index = item.Index, Key = item.Key, Input = request.InputCodec.Serialize(item.Value) });
                outcomes.Add(new ItemOutcome(item.Index, status, 0, null, null, null, now, TimeSpan.Zero));
                request.Observer?.OnItemCompleted(new ItemResult<TIn, TOut> { Index = item.Index, Key = item.Key, Input = item.Value, Status = status, EndedAt = now });
                if (items.Count == CreateBatchSize)
                {
                    await FlushAsync().ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The caller gave up waiting for the rest of the stream (Ctrl+C); keep what was read.
            cancellationToken = CancellationToken.None;
        }

        if (items.Count > 0)
        {
            await FlushAsync().ConfigureAwait(false);
        }

        var unread = index - first;
        if (unread == 0)
        {
            return summary;
        }

        log.Info($"{unread} item(s) that arrived after the stop were recorded {status}");
        return status == ItemStatus.Cancelled
            ? summary with { Total = index, Cancelled = summary.Cancelled + unread }
            : summary with { Total = index, Skipped = summary.Skipped + unread };
    }

    /// <summary>
    /// The failed items a retry may reset (all, or those of <paramref name="indexes"/>): never an item that
    /// failed its item schema check, which would run unchecked. Null (all) when there is no such item.
    /// </summary>
    private async Task<IReadOnlyCollection<long>?> RetryableAsync(string jobId, IReadOnlyCollection<long>? indexes, CancellationToken cancellationToken)
    {
        var invalid = new HashSet<long>();
        await foreach (var item in _store.GetItemsAsync(jobId, new ItemQuery { Statuses = [ItemStatus.Failed] }, cancellationToken).ConfigureAwait(false))
        {
            if (item.Error?.Type == ItemError.ValidationErrorType)
            {
                invalid.Add(item.Index);
            }
        }

        if (invalid.Count == 0)
        {
            return indexes;
        }

        if (indexes is not null)
        {
            return [.. indexes.Where(i => !invalid.Contains(i))];
        }

        var failed = new List<long>();
        await foreach (var item in _store.GetItemsAsync(jobId, new ItemQuery { Statuses = [ItemStatus.Failed], InputsOnly = true }, cancellationToken).ConfigureAwait(false))
        {
            if (!invalid.Contains(item.Index))
            {
                failed.Add(item.Index);
            }
        }

        return failed;
    }

    /// <summary>Whether a run reads every item of a job created from <paramref name="file"/> and nothing has run yet.</summary>
    private static bool IsFirstRunOf(JobRecord job, ItemsFile file, RunKind kind) =>
        kind == RunKind.Resume && job.ItemsFile == file.Source && job.Counts.Pending == file.Count && job.Counts.Total == file.Count;

    private async IAsyncEnumerable<BatchItem<TIn>> ReadItemsAsync<TIn>(
        string jobId,
        ItemQuery query,
        IPayloadCodec<TIn> codec,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var stored in _store.GetItemsAsync(jobId, query, cancellationToken).ConfigureAwait(false))
        {
            TIn value;
            try
            {
                value = codec.Deserialize(stored.Input);
            }
            catch (Exception error)
            {
                throw new StoreException($"The stored input of item {stored.Index} cannot be read as '{codec.Format}': {error.Message}", error);
            }

            yield return new BatchItem<TIn>(stored.Index, value, stored.Key);
        }
    }

    /// <summary>Renews the lease until the run ends; turns a stop request from another process into a stop.</summary>
    private async Task HeartbeatAsync(string jobId, JobLease lease, BatchStopSource stop, JobLog log, CancellationToken cancellationToken)
    {
        StopMode? honoured = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(HeartbeatInterval, _time, cancellationToken).ConfigureAwait(false);
                var requested = await _store.RenewLeaseAsync(jobId, lease, cancellationToken).ConfigureAwait(false);
                if (requested is { } mode && (honoured is null || mode > honoured))
                {
                    honoured = mode;
                    log.Info($"{mode} stop requested through the store");
                    stop.Stop(mode);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (StoreException error)
            {
                // A busy store delays a heartbeat; the run goes on and the next beat tries again.
                log.Info($"lease renewal failed: {error.Message}");
            }
        }
    }
}
