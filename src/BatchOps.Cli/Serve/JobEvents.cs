using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

namespace BatchOps.Cli.Serve;

/// <summary>One Server-Sent Event: its name and the object sent as its JSON data.</summary>
internal sealed record JobEvent(string Name, object Data);

/// <summary>A running job's progress as the events carry it.</summary>
internal sealed record ProgressEvent(string Id, string Name, JobStatus Status, CountsView Counts, double Percent, double? ItemsPerSecond, double? EtaSeconds);

/// <summary>
/// What one event stream has told its client, and what changed since: polls the store (which every process
/// writes to, so jobs run elsewhere show up) and yields a <c>status</c> event when a job appears or its status
/// changes, and a <c>progress</c> event when a running job's counts moved, at most once per poll per job.
/// </summary>
internal sealed class JobEvents(IJobStore store, TimeProvider time)
{
    private readonly Dictionary<string, (JobStatus Status, long Done, long At)> _seen = new(StringComparer.Ordinal);
    private DateTimeOffset _since = time.GetUtcNow();
    private bool _started;

    public async Task<List<JobEvent>> PollAsync(CancellationToken cancellationToken)
    {
        var events = new List<JobEvent>();
        var now = time.GetTimestamp();
        var polledAt = time.GetUtcNow();
        var running = await store.FindJobsAsync(new JobQuery { Statuses = [JobStatus.Running] }, cancellationToken).ConfigureAwait(false);
        var created = _started ? await store.FindJobsAsync(new JobQuery { Since = _since - TimeSpan.FromSeconds(1) }, cancellationToken).ConfigureAwait(false) : [];
        _since = polledAt;
        _started = true;
        var current = running.Concat(created).DistinctBy(j => j.Id).ToList();
        // Jobs last seen running or pending that are neither now: fetched to tell how they ended.
        var open = _seen.Where(p => p.Value.Status is JobStatus.Running or JobStatus.Pending).Select(p => p.Key);
        foreach (var gone in open.Except(current.Select(j => j.Id)).ToList())
        {
            if (await store.GetJobAsync(gone, cancellationToken).ConfigureAwait(false) is { } job)
            {
                current.Add(job);
            }
            else
            {
                _seen.Remove(gone);
                events.Add(new JobEvent("removed", new { id = gone }));
            }
        }

        foreach (var job in current)
        {
            var done = job.Counts.Total - job.Counts.Unfinished;
            var known = _seen.TryGetValue(job.Id, out var last);
            if (!known || last.Status != job.Status)
            {
                events.Add(new JobEvent("status", JobView.Of(job)));
            }

            if (job.Status == JobStatus.Running && (!known || last.Done != done))
            {
                double? rate = known && last.Status == JobStatus.Running ? (done - last.Done) / Math.Max(time.GetElapsedTime(last.At, now).TotalSeconds, 0.001) : null;
                var left = job.Counts.Total - done;
                events.Add(new JobEvent("progress", new ProgressEvent(
                    job.Id, job.Name, job.Status, CountsView.Of(job.Counts), job.Counts.Total == 0 ? 0 : Math.Round(100.0 * done / job.Counts.Total, 1),
                    rate is { } r ? Math.Round(r, 1) : null, rate is > 0 ? Math.Round(left / rate.Value, 1) : null)));
            }

            _seen[job.Id] = (job.Status, done, known && last.Done == done && last.Status == job.Status ? last.At : now);
        }

        return events;
    }
}
