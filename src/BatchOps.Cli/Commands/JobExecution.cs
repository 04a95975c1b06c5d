using System.Text.Json;
using BatchOps.Operations.Spec;
using BatchOps.Cli.Output;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

namespace BatchOps.Cli.Commands;

/// <summary>Runs a stored job (first run, resume or retry) and turns the outcome into output and an exit status.</summary>
internal static class JobExecution
{
    public static async Task<int> RunAsync(CliSession session, string jobId, RunKind kind, bool json, IReadOnlyCollection<long>? indexes = null, ItemsFile? itemsFile = null, string? stage = null)
    {
        var job = await session.ResolveJobAsync(jobId).ConfigureAwait(false);
        if (job.InputIncomplete)
        {
            session.Error.WriteLine($"warning: job '{job.Name}' ({job.Id}): {JobCreation.InputIncompleteMessage(job.Counts.Total)}");
        }

        var request = Request(session, job) with { Kind = kind, Indexes = indexes, ItemsFile = itemsFile, Stage = stage };
        var result = await session.CreateRunner().RunAsync(job.Id, request, session.Interrupt).ConfigureAwait(false);
        Report(session, result, json);
        return ExitCodeFor(result, session.Interrupt.IsCancellationRequested);
    }

    /// <summary>Compensates a job's succeeded items on demand (<c>batchops undo</c>).</summary>
    public static async Task<int> UndoAsync(CliSession session, JobRecord job, bool json)
    {
        var result = await session.CreateRunner().UndoAsync(job.Id, Request(session, job), session.Interrupt).ConfigureAwait(false);
        Report(session, result, json);
        return ExitCodeFor(result, session.Interrupt.IsCancellationRequested);
    }

    /// <summary>How to run a stored job (see <see cref="LoadedJobs.Request"/>), with progress and failures on stderr.</summary>
    private static JobRunRequest<JsonElement, string?> Request(CliSession session, JobRecord job) => LoadedJobs.Request(job) with
    {
        Observer = new ProgressRenderer(session.Error, session.ErrorIsTerminal, job.Name),
        StageObserver = stage => new ProgressRenderer(session.Error, session.ErrorIsTerminal, $"{job.Name}/{stage.Name}"),
        UndoObserver = new UndoRenderer(session.Error),
    };

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
        if (job.RollingBack)
        {
            session.Out.WriteLine($"  undo:     {c.Compensated} compensated, {c.CompensationFailed} compensation(s) failed");
        }

        if (job.Message is not null)
        {
            session.Out.WriteLine($"  {BatchOps.Operations.TerminalText.Escape(job.Message)}");
        }

        if (job.RollingBack)
        {
            if (c.CompensationFailed > 0 || job.Status is JobStatus.Cancelled or JobStatus.Interrupted or JobStatus.Failed)
            {
                session.Out.WriteLine($"  Go on compensating with: batchops undo {job.Id}");
            }

            return;
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
