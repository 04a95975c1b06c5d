using BatchOps.Engine.Execution;
using BatchOps.Engine.Hosting;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Progress;
using BatchOps.PowerShell.Output;
using EngineStatus = BatchOps.Engine.Jobs.ItemStatus;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// Turns a rollback's compensations into what a cmdlet writes: each item as a BatchItemResult with status
/// Compensated or CompensationFailed (its output: what the forward script block returned), a failed one also
/// as an error record, and progress under "(undo)".
/// </summary>
internal sealed class UndoObserver(PipelinePump pump, Func<(string Id, string Name)> job, Func<object?, object?> inputView) : BatchObserver<Compensation<object?, object?>, object?>
{
    public override void OnItemCompleted(ItemResult<Compensation<object?, object?>, object?> result)
    {
        if (result.Status is not (EngineStatus.Succeeded or EngineStatus.Failed))
        {
            // Not started because the rollback stopped: still Succeeded, a resume compensates it.
            return;
        }

        var compensation = new ItemResult<object?, object?>
        {
            Index = result.Index,
            Key = result.Key,
            Input = result.Input.Input,
            Output = result.Input.Output,
            Status = result.Status == EngineStatus.Succeeded ? EngineStatus.Compensated : EngineStatus.CompensationFailed,
            Attempts = result.Attempts,
            Duration = result.Duration,
            StartedAt = result.StartedAt,
            EndedAt = result.EndedAt,
            Error = result.Error,
        };
        var item = OutputViews.View(job().Id, compensation, inputView);
        pump.Post(PumpMessageKind.Output, item);
        if (result.Status == EngineStatus.Failed)
        {
            pump.Post(PumpMessageKind.Error, item);
        }
    }

    public override void OnRetry(RetryNotice notice) =>
        pump.Post(PumpMessageKind.Verbose, $"Retrying the undo of item {notice.Index} in {notice.Delay.TotalSeconds:F1}s after attempt {notice.Attempt}: {notice.Error.Message}");

    public override void OnProgress(ProgressSnapshot snapshot)
    {
        var (id, name) = job();
        pump.Post(PumpMessageKind.Progress, ProgressView.From(id, name, snapshot, "undo"));
    }
}
