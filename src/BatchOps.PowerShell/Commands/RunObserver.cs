using BatchOps.Engine.Execution;
using BatchOps.Engine.Hosting;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Progress;
using BatchOps.PowerShell.Output;

namespace BatchOps.PowerShell.Commands;

/// <summary>Turns what a run reports into pump messages; called on worker threads, writes nothing itself.</summary>
internal sealed class RunObserver(PipelinePump pump, Func<(string Id, string Name)> job, Func<object?, object?> inputView, string? stage = null) : BatchObserver<object?, object?>
{
    public override void OnItemCompleted(ItemResult<object?, object?> result)
    {
        var item = OutputViews.View(job().Id, result, inputView);
        item.Stage = stage;
        pump.Post(PumpMessageKind.Output, item);
        if (item.Status == ItemStatus.Failed)
        {
            pump.Post(PumpMessageKind.Error, item);
        }
    }

    public override void OnRetry(RetryNotice notice) =>
        pump.Post(PumpMessageKind.Verbose, $"Retrying item {notice.Index}{(notice.Count > 1 ? $" (+{notice.Count - 1} in its chunk)" : string.Empty)} in {notice.Delay.TotalSeconds:F1}s after attempt {notice.Attempt}: {notice.Error.Message}");

    public override void OnProgress(ProgressSnapshot snapshot)
    {
        var (id, name) = job();
        pump.Post(PumpMessageKind.Progress, ProgressView.From(id, name, snapshot, stage is null ? null : $"stage {stage}"));
    }
}
