using System.Management.Automation;
using BatchOps.Engine.Hosting;
using BatchOps.Engine.Store;
using Jobs = BatchOps.Engine.Jobs;
using Workers = BatchOps.Engine.Workers;

namespace BatchOps.PowerShell.Output;

/// <summary>
/// Maps engine values into the module's own output types at the boundary. Internal, so no type PowerShell
/// enumerates on import touches the engine before the module's load context is installed.
/// </summary>
internal static class OutputViews
{
    public static ItemStatus View(Jobs.ItemStatus status) => (ItemStatus)(int)status;

    public static JobStatus View(Jobs.JobStatus status) => (JobStatus)(int)status;

    public static Jobs.ItemStatus ToEngine(ItemStatus status) => (Jobs.ItemStatus)(int)status;

    public static Jobs.JobStatus ToEngine(JobStatus status) => (Jobs.JobStatus)(int)status;

    public static BatchItemError? View(Jobs.ItemError? error) => error is null ? null : new BatchItemError
    {
        Type = error.Type,
        Message = error.Message,
        Detail = error.Detail,
        IsRetryable = error.IsRetryable,
        Exception = error.Exception,
    };

    /// <summary>A result the engine just reported; <paramref name="inputView"/> shows its input.</summary>
    public static BatchItemResult View<TIn, TOut>(string jobId, Jobs.ItemResult<TIn, TOut> result, Func<TIn, object?> inputView) => new()
    {
        JobId = jobId,
        Index = result.Index,
        Key = result.Key,
        Input = inputView(result.Input),
        Output = result.Output,
        Status = View(result.Status),
        Attempts = result.Attempts,
        Duration = result.Duration,
        StartedAt = result.StartedAt,
        EndedAt = result.EndedAt,
        Error = View(result.Error),
    };

    /// <summary>A stored item, its input and output read back with the job's codecs.</summary>
    public static BatchItemResult View<TIn, TOut>(string jobId, StoredItem item, Jobs.IPayloadCodec<TIn> inputCodec, Jobs.IPayloadCodec<TOut> outputCodec) => new()
    {
        JobId = jobId,
        Index = item.Index,
        Key = item.Key,
        Input = inputCodec.Deserialize(item.Input),
        Output = item.Output is null ? null : outputCodec.Deserialize(item.Output),
        Status = View(item.Status),
        Attempts = item.Attempts,
        Duration = item.Duration ?? TimeSpan.Zero,
        StartedAt = item.StartedAt,
        EndedAt = item.EndedAt,
        Error = View(item.Error),
    };

    public static BatchItemRetry View(string jobId, long index, string? key, ItemRetry retry) => new()
    {
        JobId = jobId,
        Index = index,
        Key = key,
        Run = retry.Run,
        Attempt = retry.Attempt,
        ErrorType = retry.ErrorType,
        StatusCode = retry.StatusCode,
        Message = retry.Message,
        Delay = retry.Delay,
        At = retry.At,
    };

    public static BatchItemHistory View(string jobId, long index, ItemHistoryEntry entry) => new()
    {
        JobId = jobId,
        Index = index,
        Run = entry.Run,
        Status = View(entry.Status),
        Attempts = entry.Attempts,
        Error = View(entry.Error),
        EndedAt = entry.EndedAt,
    };

    public static BatchJobSettings View(Jobs.JobSettings settings) => new()
    {
        ChunkSize = settings.ChunkSize,
        ThrottleLimit = settings.ThrottleLimit,
        RetryCount = settings.RetryCount,
        RetryDelay = settings.RetryDelayMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null,
        MaxRetryDelay = settings.MaxRetryDelayMs is { } maxMs ? TimeSpan.FromMilliseconds(maxMs) : null,
        RetryOn = settings.RetryOn,
        NoRetryOn = settings.NoRetryOn,
        TimeoutSeconds = settings.TimeoutSeconds,
        JobTimeoutSeconds = settings.JobTimeoutSeconds,
        RateLimit = settings.RateLimit,
        StopOnError = settings.StopOnError,
        MaxErrors = settings.MaxErrors,
        PreserveOrder = settings.PreserveOrder,
        KeepOutput = settings.KeepOutput?.ToString(),
    };

    public static BatchJob View(JobRecord job, string? store = null)
    {
        var c = job.Counts;
        return new BatchJob
        {
            Id = job.Id,
            Name = job.Name,
            Description = job.Description,
            Tags = [.. job.Tags],
            Status = View(job.Status),
            Total = c.Total,
            Succeeded = c.Succeeded,
            Failed = c.Failed,
            Skipped = c.Skipped,
            Cancelled = c.Cancelled,
            Pending = c.Pending + c.Running,
            Compensated = c.Compensated,
            CompensationFailed = c.CompensationFailed,
            RollingBack = job.RollingBack,
            InputIncomplete = job.InputIncomplete,
            Stages = job.Stages is null ? [] : [.. Engine.Jobs.StageOrder.Sort(job.Stages).Select(s => s.Name)],
            CreatedAt = job.CreatedAt,
            StartedAt = job.StartedAt,
            EndedAt = job.EndedAt,
            Duration = job.Duration,
            Message = job.Message,
            RunCount = job.RunCount,
            Owner = job.Lease is { } lease ? $"{lease.ProcessId}@{lease.Host}" : null,
            Settings = View(job.Settings),
            OperationKind = job.OperationKind,
            Store = store,
        };
    }

    public static BatchStatistics View(StoreStatistics stats, string store) => new()
    {
        Jobs = stats.Jobs,
        ByStatus = stats.ByStatus.ToDictionary(p => View(p.Key), p => p.Value),
        ByTag = stats.ByTag.ToDictionary(p => p.Key, p => p.Value, StringComparer.OrdinalIgnoreCase),
        Items = stats.Items.Total,
        SucceededItems = stats.Items.Succeeded,
        FailedItems = stats.Items.Failed,
        UnfinishedItems = stats.Items.Unfinished,
        Active = [.. stats.Active.Select(j => View(j, store))],
        Recent = [.. stats.Recent.Select(j => View(j, store))],
        AverageDuration = stats.AverageDuration,
        ItemsPerSecond = stats.ItemsPerSecond,
        StoreBytes = stats.StoreBytes,
        BytesPerItem = stats.BytesPerItem,
    };

    public static BatchStageStatistics View(StageStatistics stage) => new()
    {
        JobId = stage.JobId,
        Stage = stage.Stage,
        DependsOn = [.. stage.DependsOn],
        Status = stage.Status,
        OperationKind = stage.OperationKind,
        Items = stage.Counts.Total,
        Succeeded = stage.Counts.Succeeded,
        Failed = stage.Counts.Failed,
        Skipped = stage.Counts.Skipped,
        Pending = stage.Counts.Pending + stage.Counts.Running + stage.Counts.Cancelled,
        Undone = stage.Counts.Compensated + stage.Counts.CompensationFailed,
        StartedAt = stage.StartedAt,
        EndedAt = stage.EndedAt,
        Duration = stage.Duration,
        ItemsPerSecond = stage.ItemsPerSecond,
    };

    /// <summary>The error record fields of a failed item (id, category, message), decided in the engine.</summary>
    public static ErrorRecordInfo ErrorOf(BatchItemResult item) =>
        ErrorRecordInfo.ForFailedItem(item.JobId, item.Index, item.Key, item.Attempts, item.Error?.Type, item.Error?.Message, ShortInput(item.Input));

    /// <summary>How a failed item's message names its input when it has no key: a plain value as PowerShell prints it, else the type.</summary>
    private static string? ShortInput(object? input) => (input is PSObject wrapped ? wrapped.BaseObject : input) switch
    {
        null => null,
        string or char or bool or Guid or DateTime or DateTimeOffset or TimeSpan or Enum => LanguagePrimitives.ConvertTo<string>(input),
        var value when value.GetType().IsPrimitive || value is decimal => LanguagePrimitives.ConvertTo<string>(input),
        PSCustomObject or System.Collections.IDictionary => null,
        var value => value.ToString(),
    };

    public static BatchWorkerState View(Workers.WorkerState state) => (BatchWorkerState)(int)state;

    public static BatchWorker View(Workers.WorkerInfo worker, string store) => new()
    {
        Name = worker.Name,
        ComputerName = worker.Host,
        ProcessId = worker.ProcessId,
        State = View(worker.State),
        ChunksHeld = worker.ChunksHeld,
        ChunksRecorded = worker.ChunksRecorded,
        Jobs = [.. worker.Jobs],
        Kinds = [.. worker.Kinds],
        Concurrency = worker.Concurrency,
        Lease = worker.Lease,
        StartedAt = worker.StartedAt,
        LastSeen = worker.SeenAt,
        StopAskedAt = worker.StopAskedAt,
        WorkerId = worker.Id,
        Store = store,
    };
}
