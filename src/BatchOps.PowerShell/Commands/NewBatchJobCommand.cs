using System.Management.Automation;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.PowerShell.Output;
using BatchOps.PowerShell.Scripting;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Defines a durable batch job from pipeline input and a script block, without running it.</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "BatchJob", DefaultParameterSetName = ScriptSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(BatchJob))]
public sealed class NewBatchJobCommand : BatchDefinitionCmdlet
{
    private StreamingJobCreation? _creation;
    private long _offered;

    protected override void BeginProcessing()
    {
        if (ParameterSetName is SpecPathSet or SpecSet)
        {
            if (CreateFromSpec(LoadSpec(), Queue ? "Create the batch job and queue it for workers" : "Create the batch job") is { } created)
            {
                WriteObject(Queue ? QueueStoredJob(created) : OutputViews.View(created, JobStore.Location));
            }

            return;
        }

        if (ParameterSetName == StageSet)
        {
            var (staged, items) = BuildStagedDefinition();
            if (Queue)
            {
                CheckQueueable(staged);
            }

            if (ShouldProcess($"new job '{staged.Name}': {staged.Stages!.Count} stage(s), {items.Count} item(s)", Queue ? "Create the batch job and queue it for workers" : "Create the batch job"))
            {
                var runner = new JobRunner(JobStore, StoreLocation.LogFolder(StoreFolder));
                var created = OrStoreError(() => runner.CreateAsync(staged, items, KeyedInput.Codec, CliXmlCodec.Instance.Format, i => i.Key).GetAwaiter().GetResult());
                WriteObject(Queue ? QueueStoredJob(created) : OutputViews.View(created, JobStore.Location));
            }

            return;
        }

        var definition = BuildDefinition();
        if (Queue)
        {
            CheckQueueable(definition);
        }

        OpenItemChecks();
        if (ShouldProcess($"new job '{definition.Name}'", Queue ? "Create the batch job and queue it for workers" : "Create the batch job"))
        {
            _creation = new StreamingJobCreation(new JobRunner(JobStore, StoreLocation.LogFolder(StoreFolder)), definition, Checks?.Failed);
        }
    }

    protected override void ProcessRecord()
    {
        if (_creation is not null)
        {
            CheckItem(InputObject, _offered++);
            OrStoreError(() => _creation.Add(new KeyedInput(InputObject, KeyOf(InputObject))));
        }
    }

    protected override void EndProcessing()
    {
        if (_creation is not null)
        {
            SettleItemChecks(_creation);
            var job = OrStoreError(_creation.Complete);
            WriteObject(Queue ? QueueStoredJob(job) : OutputViews.View(job, JobStore.Location));
        }
    }

    protected override void StopProcessing() => _creation?.Cancel();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _creation?.Dispose();
        }

        base.Dispose(disposing);
    }
}
