using System.Management.Automation;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.PowerShell.Scripting;
using BatchOps.PowerShell.Output;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Gets the items of a stored job with their status, attempts, output and error.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "BatchItem")]
[OutputType(typeof(BatchItemResult), typeof(BatchItemHistory), typeof(BatchItemRetry))]
public sealed class GetBatchItemCommand : JobIdCmdlet
{
    /// <summary>Only items in these statuses.</summary>
    [Parameter]
    public ItemStatus[]? Status { get; set; }

    /// <summary>Only these indexes.</summary>
    [Parameter]
    public long[]? Index { get; set; }

    /// <summary>Also output each item's earlier outcomes (kept when it was retried).</summary>
    [Parameter]
    public SwitchParameter History { get; set; }

    /// <summary>
    /// <para type="description">A staged job: only this stage's items.</para>
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Stage { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var id in Id)
        {
            if (FindJob(id) is not { } job)
            {
                continue;
            }

            if (job.OutputsNotKept() is { } notKept)
            {
                WriteWarning($"Job '{job.Name}' ({job.Id}): {notKept}; Output is empty for those items.");
            }

            var (inputs, outputs) = (RawTextCodec.For(job.InputFormat), RawTextCodec.For(job.OutputFormat));
            var query = new ItemQuery { Statuses = Status?.Select(OutputViews.ToEngine).ToArray(), Indexes = Index };
            if (Stage is not null)
            {
                if (job.Stage(Stage) is not { } stage)
                {
                    WriteError(new ErrorRecord(
                        new ArgumentException($"Job '{job.Name}' ({job.Id}) has no stage '{Stage}'.{(job.Stages is null ? " It has no stages." : $" Its stages: {string.Join(", ", job.Stages.Select(s => s.Name))}.")}"),
                        "BatchOps.StageNotFound", ErrorCategory.ObjectNotFound, Stage));
                    continue;
                }

                query = query.Within(stage);
            }

            foreach (var item in JobStore.GetItemsAsync(job.Id, query).ToBlockingEnumerable())
            {
                var view = OutputViews.View(job.Id, item, inputs, outputs);
                view.Stage = job.StageOf(item.Index)?.Name;
                WriteObject(view);
                if (History)
                {
                    foreach (var entry in JobStore.GetItemHistoryAsync(job.Id, item.Index).GetAwaiter().GetResult())
                    {
                        WriteObject(OutputViews.View(job.Id, item.Index, entry));
                    }

                    foreach (var retry in JobStore.GetItemRetriesAsync(job.Id, item.Index).GetAwaiter().GetResult())
                    {
                        WriteObject(OutputViews.View(job.Id, item.Index, item.Key, retry));
                    }
                }
            }
        }
    }
}
