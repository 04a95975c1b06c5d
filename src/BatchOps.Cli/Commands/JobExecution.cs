using System.Text.Json;
using BatchOps.Cli.Operations;
using BatchOps.Cli.Output;
using BatchOps.Engine.Jobs;

namespace BatchOps.Cli.Commands;

/// <summary>Runs a stored job (first run, resume or retry) and turns the outcome into output and an exit status.</summary>
internal static class JobExecution
{
    public static async Task<int> RunAsync(CliSession session, string jobId, RunKind kind, bool json, IReadOnlyCollection<long>? indexes = null, ItemsFile? itemsFile = null)
    {
        var job = await session.ResolveJobAsync(jobId).ConfigureAwait(false);
        var operation = OperationFactory.FromJob(job);
        var request = new JobRunRequest<JsonElement, string?>
        {
            Operation = operation.ToBatchOperation(job.Id),
            InputCodec = Engine.Jobs.JsonPayloadCodec.Instance,
            OutputCodec = TextPayloadCodec.Instance,
            Kind = kind,
            Indexes = indexes,
            ItemsFile = itemsFile,
            Observer = new ProgressRenderer(session.Error, session.ErrorIsTerminal, job.Name),
        };
        var result = await session.CreateRunner().RunAsync(job.Id, request, session.Interrupt).ConfigureAwait(false);
        Report(session, result, json);
        return ExitCodeFor(result, session.Interrupt.IsCancellationRequested);
    }

    public static void Report(CliSession session, JobRunResult result, bool json)
    {
        if (json)
        {
            Printer.Json(session.Out, result.Job);
            return;
        }

        var job = result.Job;
        var run = result.Run;
        var c = job.Counts;
        session.Out.WriteLine($"Job '{job.Name}' ({job.Id}): {job.Status}");
        session.Out.WriteLine($"  this run: {run.Succeeded} succeeded, {run.Failed} failed, {run.Skipped} skipped, {run.Cancelled} cancelled in {run.Duration:hh\\:mm\\:ss\\.f} ({run.ItemsPerSecond:F1} items/s)");
        session.Out.WriteLine($"  job:      {c.Succeeded} succeeded, {c.Failed} failed, {c.Unfinished} not run, of {c.Total}");
        if (job.Message is not null)
        {
            session.Out.WriteLine($"  {job.Message}");
        }

        if (c.Failed > 0)
        {
            session.Out.WriteLine($"  Retry the failed items with: batchops retry {job.Id}");
        }

        if (c.Unfinished > 0 && job.Status is JobStatus.Cancelled or JobStatus.Failed or JobStatus.Interrupted)
        {
            session.Out.WriteLine($"  Run the rest with: batchops resume {job.Id}");
        }
    }

    public static int ExitCodeFor(JobRunResult result, bool interrupted) => result.Job.Status switch
    {
        JobStatus.Completed => ExitCodes.Success,
        JobStatus.Cancelled when interrupted => ExitCodes.Interrupted,
        _ => ExitCodes.Failed,
    };
}
