using System.Management.Automation;
using BatchOps.PowerShell.Completion;

namespace BatchOps.PowerShell.Commands;

/// <summary>Base of the cmdlets that act on stored jobs named by id or name (or piped BatchJob / BatchItemResult objects).</summary>
public abstract class JobIdCmdlet : BatchCmdlet
{
    /// <summary>Job ids or names; binds the Id of piped BatchJob objects and the JobId of piped BatchItemResult objects.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, HelpMessage = "Id or name of the job (the newest job with that name).")]
    [Alias("JobId")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(JobCompleter))]
    public string[] Id { get; set; } = [];
}
