using System.Management.Automation;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Undoes the items of a job that succeeded, with the job's undo script blocks.</para>
/// <para type="description">Compensates every Succeeded item (and retries every CompensationFailed one) of each stage that has an
/// UndoScriptBlock: stages in reverse dependency order, items newest first, under the job's throttle, retry and timeout settings.
/// Each compensation is recorded as it ends (Compensated or CompensationFailed), so Ctrl+C or a crash resumes the rollback
/// (Invoke-BatchJob -Id or Undo-BatchJob again) and nothing recorded is undone twice. The job ends RolledBack or RollbackFailed.
/// -WhatIf lists what would be undone, in order.</para>
/// </summary>
[Cmdlet(VerbsCommon.Undo, "BatchJob", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(BatchItemResult))]
public sealed class UndoBatchJobCommand : JobIdCmdlet
{
    /// <summary>
    /// <para type="description">Secret $using: values of the undo script blocks, by variable name (@{ cred = $cred }): they are never stored,
    /// so a session other than the one that made the job passes them again.</para>
    /// </summary>
    [Parameter]
    [ValidateNotNull]
    public System.Collections.Hashtable? UsingValue { get; set; }

    internal override System.Collections.IDictionary? GivenUsingValues => UsingValue;

    protected override void ProcessRecord()
    {
        foreach (var id in Id)
        {
            if (FindJob(id) is not { } job)
            {
                continue;
            }

            if (!job.CanUndo)
            {
                WriteError(new ErrorRecord(
                    new InvalidOperationException($"Job '{job.Name}' ({job.Id}) has no undo script block, so nothing can undo its items. Give one when creating a job (-UndoScriptBlock, or UndoScriptBlock in a -Stage)."),
                    "BatchOps.NoUndo", ErrorCategory.InvalidOperation, id));
                continue;
            }

            IReadOnlyList<UndoStep> plan;
            try
            {
                plan = new JobRunner(JobStore).PlanUndoAsync(job).GetAwaiter().GetResult();
            }
            catch (StoreException error)
            {
                WriteError(new ErrorRecord(error, Engine.Hosting.ErrorRecordInfo.StoreErrorId, ErrorCategory.ReadError, id));
                continue;
            }

            var count = plan.Where(s => s.Stage.Undo is not null).Sum(s => s.Indexes.Count);
            if (MyInvocation.BoundParameters.ContainsKey("WhatIf"))
            {
                // -WhatIf: one line per stage, in the order the undo would run.
                foreach (var (stage, indexes) in plan.Where(s => s.Stage.Undo is not null))
                {
                    var shown = string.Join(", ", indexes.Take(20)) + (indexes.Count > 20 ? ", …" : string.Empty);
                    ShouldProcess($"job '{job.Name}' ({job.Id}){(stage.Name.Length == 0 ? string.Empty : $", stage {stage.Name}")}: {indexes.Count} item(s), newest first{(indexes.Count == 0 ? string.Empty : $": {shown}")}", "Undo");
                }

                continue;
            }

            if (ShouldProcess($"job '{job.Name}' ({job.Id}), {count} item(s)", "Undo"))
            {
                InvokeBatchJobCommand.RunStoredJob(this, job, RunKind.Resume, null, new JobSettings(), useCallerRunspace: false, undo: true);
            }
        }
    }
}
