using System.Collections.Concurrent;
using System.Text.Json;
using BatchOps.Operations;
using BatchOps.Operations.Spec;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

namespace BatchOps.Cli.Serve;

/// <summary>
/// The runs the server makes itself (a posted spec, resume, retry): one background run per job through the
/// same JobRunner as batchops, so the job's lease keeps any other process off it. When the server stops,
/// its runs are stopped gracefully and waited for; they stay resumable.
/// </summary>
internal sealed class ServerRuns(IJobStore store, string? logFolder) : IAsyncDisposable
{
    private static readonly TimeSpan ShutdownWait = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<string, (Task Run, BatchStopSource Stop)> _runs = new(StringComparer.Ordinal);

    /// <summary>Starts running <paramref name="job"/>; false when this server already runs it.</summary>
    public bool TryStart(JobRecord job, RunKind kind, IReadOnlyCollection<long>? indexes = null, ItemsFile? itemsFile = null, bool undo = false)
    {
        // Checked here, before anything starts, so a job no front end here can run is a 400, not a failed run.
        var stop = new BatchStopSource();
        var request = LoadedJobs.Request(job) with { Kind = kind, Indexes = indexes, Stop = stop, ItemsFile = itemsFile };
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = RunAsync(job, request, start.Task, undo);
        if (!_runs.TryAdd(job.Id, (run, stop)))
        {
            start.SetCanceled();
            return false;
        }

        start.SetResult();
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, stop) in _runs.Values)
        {
            stop.Stop(StopMode.Graceful);
        }

        try
        {
            await Task.WhenAll(_runs.Values.Select(r => r.Run)).WaitAsync(ShutdownWait).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Still running after the wait: the process ends and the jobs show Interrupted (resumable).
        }
    }

    private async Task RunAsync(JobRecord job, JobRunRequest<JsonElement, string?> request, Task start, bool undo)
    {
        try
        {
            await start.ConfigureAwait(false);
            var runner = new JobRunner(store, logFolder);
            await (undo ? runner.UndoAsync(job.Id, request) : runner.RunAsync(job.Id, request)).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Another start of the same job won the race; nothing ran.
            return;
        }
        catch (Exception error) when (error is StoreException or JobSpecException)
        {
            // The runner recorded why on the job (status and message) when it could; a busy job is left to its owner.
        }
        finally
        {
            if (_runs.TryGetValue(job.Id, out var entry) && entry.Stop == request.Stop)
            {
                _runs.TryRemove(job.Id, out _);
            }

            request.Stop!.Dispose();
        }
    }
}
