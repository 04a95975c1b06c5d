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
        job.InputIncomplete)
    {
        OutputsNotKept = job.OutputsNotKept(),
    };

    /// <summary>What the store did not keep of the job's outputs (KeepOutput); null when it keeps them all.</summary>
    public string? OutputsNotKept { get; init; }

    /// <summary>Whether the job has an undo operation (the page's Undo button).</summary>
    public bool CanUndo { get; init; }

    /// <summary>A staged job's stages in the order they run, with where each stands; null for a job without stages.</summary>
    public IReadOnlyList<StageView>? Stages { get; init; }

    /// <summary>A staged job that can be undone: the stages with an undo, in the order an undo compensates them (reverse dependency order).</summary>
    public IReadOnlyList<string>? UndoOrder { get; init; }

    /// <summary>Who the job tells when it ends, each target with its notice of the last end; null for a job without targets.</summary>
    public IReadOnlyList<string>? Notices { get; init; }

    /// <summary>The job with its stages and notices, as the job page shows it.</summary>
    public static async Task<JobView> DetailedAsync(IJobStore store, JobRecord job, CancellationToken cancellationToken)
    {
        var stages = job.Stages is null ? null : await StageSummary.ReadAsync(store, job, cancellationToken).ConfigureAwait(false);
        var notices = job.Notify is null ? null : Engine.Notifications.Notices.Summaries(job, await store.GetNoticesAsync(job.Id, cancellationToken).ConfigureAwait(false));
        return Of(job) with
        {
            CanUndo = job.CanUndo,
            UndoOrder = job.Stages is { } planned && job.CanUndo ? [.. StageOrder.Sort(planned).Reverse().Where(s => s.Undo is not null).Select(s => s.Name)] : null,
            Stages = stages?.Select(s => new StageView(s.Stage.Name, s.Stage.DependsOn, s.Status, CountsView.Of(s.Counts), s.Stage.OperationKind, s.Stage.Undo?.OperationKind)).ToList(),
            Notices = notices,
        };
    }
}

/// <summary>One stage as the job page shows it.</summary>
internal sealed record StageView(string Name, IReadOnlyList<string> DependsOn, string Status, CountsView Counts, string OperationKind, string? UndoKind);

/// <summary>How far a running job is: the share of its items that have an outcome.</summary>
internal sealed record ProgressView(double Percent);

internal sealed record CountsView(long Total, long Succeeded, long Failed, long Skipped, long Cancelled, long Pending, long Compensated, long CompensationFailed)
{
    public static CountsView Of(ItemCounts c) => new(c.Total, c.Succeeded, c.Failed, c.Skipped, c.Cancelled, c.Pending + c.Running, c.Compensated, c.CompensationFailed);
}

/// <summary>An item as the API shows it: its input as stored, and its output or error.</summary>
internal sealed record ItemView(long Index, string? Key, ItemStatus Status, int Attempts, double? DurationMs, string Input, string? Output, ErrorView? Error)
{
    /// <summary>A short form of the input that says which resource the item was (a job without keys shows it).</summary>
    public string? InputSummary { get; init; }

    /// <summary>The item's stage, for a staged job.</summary>
    public string? Stage { get; init; }

    public static ItemView Of(StoredItem i) => new(
        i.Index, i.Key, i.Status, i.Attempts, i.Duration?.TotalMilliseconds, i.Input, i.Output, i.Error is { } e ? new ErrorView(e.Type, e.Message) : null);

    /// <summary>As <see cref="Of(StoredItem)"/>, with the input's short form and the item's stage.</summary>
    public static ItemView Of(StoredItem i, JobRecord job) => Of(i) with { InputSummary = InputText.Summary(i.Input, job.InputFormat), Stage = job.StageOf(i.Index)?.Name };
}

/// <summary>Stored inputs in a few words: JSON compacted, CliXml reduced to its values, anything clipped.</summary>
internal static class InputText
{
    /// <summary>Longest summary, in characters.</summary>
    public const int Length = 80;

    public static string Summary(string input, string format)
    {
        string text;
        try
        {
            text = format switch
            {
                "json" => System.Text.Json.JsonSerializer.Serialize(System.Text.Json.JsonDocument.Parse(input).RootElement),
                "clixml" => CliXmlValues(input),
                _ => input,
            };
        }
        catch (Exception error) when (error is System.Text.Json.JsonException or System.Xml.XmlException)
        {
            text = input;
        }

        text = text.ReplaceLineEndings(" ");
        return text.Length <= Length ? text : string.Concat(text.AsSpan(0, Length - 1), "…");
    }

    /// <summary>The values in a CliXml document, property names skipped: "srv1 True" for a two-property object.</summary>
    private static string CliXmlValues(string input)
    {
        var document = System.Xml.Linq.XDocument.Parse(Engine.Jobs.CliXmlPlain.Expand(input));
        var values = document.Descendants()
            .Where(e => !e.HasElements && e.Name.LocalName is not ("T" or "TN" or "TNRef" or "ToString"))
            .Select(e => e.Value)
            .Where(v => v.Length > 0);
        return string.Join(' ', values);
    }
}

internal sealed record ErrorView(string Type, string Message);

/// <summary>A queued job that no running worker takes (<see cref="Engine.Workers.WaitingWork"/>), as the API shows it.</summary>
internal sealed record WaitingView(string JobId, string JobName, IReadOnlyList<string> Kinds, long Chunks, string Message)
{
    public static WaitingView Of(Engine.Workers.WaitingWork work) => new(work.JobId, work.JobName, work.Kinds, work.Chunks, work.Message);
}
