using System.Management.Automation;
using System.Text;
using BatchOps.Engine.Export;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Exports a job with all its items to a JSON or CSV file (or as text when no -Path is given).</para>
/// </summary>
[Cmdlet(VerbsData.Export, "BatchJob", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(FileInfo), typeof(string))]
public sealed class ExportBatchJobCommand : JobIdCmdlet
{
    /// <summary>Json or Csv.</summary>
    [Parameter]
    [ValidateSet("Json", "Csv")]
    public string Format { get; set; } = "Json";

    /// <summary>File to write; with several jobs, each job's id is added to the file name.</summary>
    [Parameter]
    public string? Path { get; set; }

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
                WriteWarning($"Job '{job.Name}' ({job.Id}): {notKept}; the output is empty for those items.");
            }

            if (Path is null)
            {
                using var buffer = new MemoryStream();
                Export(job, buffer);
                WriteObject(Encoding.UTF8.GetString(buffer.ToArray()));
                continue;
            }

            var target = GetUnresolvedProviderPathFromPSPath(Id.Length > 1
                ? System.IO.Path.ChangeExtension(Path, null) + "-" + job.Id + System.IO.Path.GetExtension(Path)
                : Path);
            if (ShouldProcess(target, $"Export job '{job.Name}' ({job.Id}) as {Format}"))
            {
                using (var file = new FileStream(target, FileMode.Create, FileAccess.Write))
                {
                    Export(job, file);
                }

                WriteObject(new FileInfo(target));
            }
        }
    }

    private void Export(Engine.Store.JobRecord job, Stream output)
    {
        if (Format == "Json")
        {
            JobExporter.WriteJsonAsync(JobStore, job, output).GetAwaiter().GetResult();
            return;
        }

        using var writer = new StreamWriter(output, new UTF8Encoding(false), leaveOpen: true);
        JobExporter.WriteCsvAsync(JobStore, job, writer).GetAwaiter().GetResult();
    }
}
