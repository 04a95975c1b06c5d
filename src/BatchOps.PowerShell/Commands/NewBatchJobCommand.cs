using System.Collections.Concurrent;
using System.Management.Automation;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.PowerShell.Scripting;

using BatchOps.PowerShell.Output;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Defines a durable batch job from pipeline input and a script block, without running it.</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "BatchJob", DefaultParameterSetName = ScriptSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(BatchJob))]
public sealed class NewBatchJobCommand : BatchDefinitionCmdlet
{
    private BlockingCollection<KeyedInput>? _items;
    private Task<JobRecord>? _creating;
    private CancellationTokenSource? _cancel;

    protected override void BeginProcessing()
    {
        var definition = BuildDefinition();
        if (!ShouldProcess($"new job '{definition.Name}'", "Create the batch job"))
        {
            return;
        }

        // Items are serialized and stored by a background task a thousand at a time while input arrives.
        _items = new BlockingCollection<KeyedInput>(boundedCapacity: 1000);
        _cancel = new CancellationTokenSource();
        var runner = new JobRunner(JobStore, StoreLocation.LogFolder(StoreFolder));
        var items = _items;
        var cancel = _cancel.Token;
        _creating = Task.Run(() => runner.CreateAsync(definition, items.GetConsumingEnumerable(cancel), KeyedInput.Codec, CliXmlCodec.Instance.Format, item => item.Key, cancel));
    }

    protected override void ProcessRecord()
    {
        if (_items is null)
        {
            return;
        }

        var input = new KeyedInput(InputObject, KeyOf(InputObject));
        while (!_items.TryAdd(input, 200, _cancel!.Token))
        {
            // The writer stopped (a store error): surface its error instead of waiting for ever.
            if (_creating!.IsCompleted)
            {
                EndWithStoreError();
            }
        }
    }

    protected override void EndProcessing()
    {
        if (_items is null)
        {
            return;
        }

        _items.CompleteAdding();
        WriteObject(OutputViews.View(EndWithStoreError(), JobStore.Location));
    }

    private JobRecord EndWithStoreError()
    {
        try
        {
            return _creating!.GetAwaiter().GetResult();
        }
        catch (StoreException error)
        {
            ThrowTerminatingError(new ErrorRecord(error, Engine.Hosting.ErrorRecordInfo.StoreErrorId, ErrorCategory.WriteError, Name));
            throw;
        }
    }

    protected override void StopProcessing() => _cancel?.Cancel();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _items?.Dispose();
            _cancel?.Dispose();
        }

        base.Dispose(disposing);
    }
}
