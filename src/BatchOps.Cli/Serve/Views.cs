using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

namespace BatchOps.Cli.Serve;

/// <summary>A job as the API shows it. The operation itself is left out (it may name hosts and headers); its kind is shown.</summary>
internal sealed record JobView(
    string Id,
    string Name,
    string? Description,
    IReadOnlyList<string> Tags,
    JobStatus Status,
    string? Message,
    CountsView Counts,
    ProgressView? Progress,
    JobSettings Settings,
    string OperationKind,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? EndedAt,
    int Runs,
    string? ItemsFile,
    bool InputIncomplete)
{
    public static JobView Of(JobRecord job) => new(
        job.Id,
        job.Name,
        job.Description,
        job.Tags,
        job.Status,
        job.Message,
        CountsView.Of(job.Counts),
        job.Status == JobStatus.Running ? new ProgressView(job.Counts.Total == 0 ? 0 : Math.Round(100.0 * (job.Counts.Total - job.Counts.Unfinished) / job.Counts.Total, 1)) : null,
        job.Settings,
        job.OperationKind,
        job.CreatedAt,
        job.StartedAt,
        job.EndedAt,
        job.RunCount,
        job.ItemsFile?.Path,
        job.InputIncomplete);
}

/// <summary>How far a running job is: the share of its items that have an outcome.</summary>
internal sealed record ProgressView(double Percent);

internal sealed record CountsView(long Total, long Succeeded, long Failed, long Skipped, long Cancelled, long Pending, long Compensated, long CompensationFailed)
{
    public static CountsView Of(ItemCounts c) => new(c.Total, c.Succeeded, c.Failed, c.Skipped, c.Cancelled, c.Pending + c.Running, c.Compensated, c.CompensationFailed);
}

/// <summary>An item as the API shows it: its input as stored, and its output or error.</summary>
internal sealed record ItemView(long Index, string? Key, ItemStatus Status, int Attempts, double? DurationMs, string Input, string? Output, ErrorView? Error)
{
    public static ItemView Of(StoredItem i) => new(
        i.Index, i.Key, i.Status, i.Attempts, i.Duration?.TotalMilliseconds, i.Input, i.Output, i.Error is { } e ? new ErrorView(e.Type, e.Message) : null);
}

internal sealed record ErrorView(string Type, string Message);

/// <summary>A queued job that no running worker takes (<see cref="Engine.Workers.WaitingWork"/>), as the API shows it.</summary>
internal sealed record WaitingView(string JobId, string JobName, IReadOnlyList<string> Kinds, long Chunks, string Message)
{
    public static WaitingView Of(Engine.Workers.WaitingWork work) => new(work.JobId, work.JobName, work.Kinds, work.Chunks, work.Message);
}
