using System.Management.Automation;
using BatchOps.Engine.Hosting;
using BatchOps.Engine.Jobs;

namespace BatchOps.PowerShell.Output;

/// <summary>Where a run's records go: a cmdlet's streams, or a background job's.</summary>
internal interface IRunStreams
{
    void Output(object? value);

    void Error(ErrorRecord record);

    void Verbose(string message);

    void Debug(string message);

    void Warning(string message);

    void Information(InformationRecord record);

    void Progress(ProgressRecord record);
}

/// <summary>
/// Turns what a run reports into PowerShell records, the same way for Invoke-BatchJob and for -AsJob:
/// failed items as ErrorRecords (stable id, category, the item as TargetObject), progress snapshots as
/// ProgressRecords, and a run stopped by its policy, a timeout or a fault as one BatchOps.JobFailed error.
/// </summary>
internal static class RunRecords
{
    /// <summary>Writes one pump message to <paramref name="streams"/>; actions (caller-runspace items) run here.</summary>
    public static void Dispatch(PumpMessage message, IRunStreams streams)
    {
        switch (message.Kind)
        {
            case PumpMessageKind.Output:
                streams.Output(message.Payload);
                break;
            case PumpMessageKind.Error:
                streams.Error(ForFailedItem((BatchItemResult)message.Payload!));
                break;
            case PumpMessageKind.Verbose:
                streams.Verbose((string)message.Payload!);
                break;
            case PumpMessageKind.Debug:
                streams.Debug((string)message.Payload!);
                break;
            case PumpMessageKind.Warning:
                streams.Warning((string)message.Payload!);
                break;
            case PumpMessageKind.Information:
                streams.Information((InformationRecord)message.Payload!);
                break;
            case PumpMessageKind.Progress:
                streams.Progress(ForProgress((ProgressView)message.Payload!));
                break;
            case PumpMessageKind.Invoke:
                ((Action)message.Payload!)();
                break;
        }
    }

    public static ErrorRecord ForFailedItem(BatchItemResult item)
    {
        var info = OutputViews.ErrorOf(item);
        var exception = item.Error?.Exception ?? new InvalidOperationException(info.Message);
        // The error view prints ErrorDetails: escaped, so an item's error cannot act on the terminal; the
        // exception keeps the exact text.
        return new ErrorRecord(exception, info.ErrorId, Enum.Parse<ErrorCategory>(info.Category), item)
        {
            ErrorDetails = new ErrorDetails(Operations.TerminalText.Escape(info.Message)),
        };
    }

    public static ProgressRecord ForProgress(ProgressView view) => new(view.ActivityId, view.Activity, view.StatusDescription)
    {
        PercentComplete = view.PercentComplete,
        SecondsRemaining = view.SecondsRemaining,
        RecordType = view.Completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
    };

    /// <summary>The error of a run that its error policy, job timeout or a fault stopped; null for any other end.</summary>
    public static ErrorRecord? ForStoppedRun(JobRunResult result)
    {
        if (result.Run.StopReason is not (StopReason.Fault or StopReason.ErrorPolicy or StopReason.JobTimeout))
        {
            return null;
        }

        return new ErrorRecord(
            result.Run.Fault ?? new InvalidOperationException(result.Run.Message),
            ErrorRecordInfo.JobFailedId,
            ErrorCategory.OperationStopped,
            OutputViews.View(result.Job))
        {
            ErrorDetails = new ErrorDetails($"Job '{result.Job.Name}' ({result.Job.Id}) stopped: {result.Run.Message} Resume it with Invoke-BatchJob -Id {result.Job.Id}."),
        };
    }
}
