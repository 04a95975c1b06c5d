using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Diagnostics;

/// <summary>
/// What BatchOps tells a monitoring stack, host-free: one <see cref="Meter"/> and one
/// <see cref="ActivitySource"/>, both named "BatchOps", so the module, <c>batchops run</c>, workers and the
/// server emit the same metrics and spans. Nothing is measured or traced unless a listener (an exporter, a
/// MeterListener, an ActivityListener) is attached. Tags are bounded: the job's name, the operation kind
/// and the status, never an item or an id per item. Names and units follow the OpenTelemetry semantic
/// conventions (dotted lowercase names, UCUM units, "{item}" annotations for counts).
/// </summary>
public static class BatchTelemetry
{
    /// <summary>The meter's and the activity source's name: what an exporter subscribes to.</summary>
    public const string Name = "BatchOps";

    /// <summary>The tag naming the job (its name, chosen by people; bounded as job names are).</summary>
    public const string JobNameTag = "batchops.job.name";

    /// <summary>The tag naming the operation kind (scriptblock, exec, http, sql, …).</summary>
    public const string KindTag = "batchops.operation.kind";

    /// <summary>The tag naming an item's or a job's status.</summary>
    public const string StatusTag = "batchops.status";

    /// <summary>The span of one job run (a worker's share of a queued job: the chunks it ran of it in a row).</summary>
    public const string JobSpan = "batchops.job";

    /// <summary>The span of one chunk.</summary>
    public const string ChunkSpan = "batchops.chunk";

    /// <summary>The span of one attempt of one item.</summary>
    public const string ItemSpan = "batchops.item";

    private static readonly string Version = typeof(BatchTelemetry).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>The spans: a job run, each chunk, each item attempt.</summary>
    public static ActivitySource Source { get; } = new(Name, Version);

    /// <summary>The metrics.</summary>
    public static Meter Meter { get; } = new(Name, Version);

    internal static readonly Histogram<double> ItemDuration = Meter.CreateHistogram<double>(
        "batchops.item.duration", "s", "How long an item took from its first attempt to its outcome, retries and their delays included (every item of chunks up to 32 items, an evenly spread 32 of larger chunks).");

    internal static readonly Counter<long> RateLimitWaits = Meter.CreateCounter<long>(
        "batchops.rate_limit.waits", "{wait}", "Item starts that waited for their slot of the job's rate limit.");

    internal static readonly Histogram<double> RateLimitWait = Meter.CreateHistogram<double>(
        "batchops.rate_limit.wait.duration", "s", "How long item starts waited for their slot of the job's rate limit.");

    internal static readonly Counter<long> Jobs = Meter.CreateCounter<long>(
        "batchops.jobs", "{job}", "Job runs that ended, by the job's status after the run (Completed, CompletedWithErrors, Failed, Cancelled, Interrupted, RolledBack, …).");

    internal static readonly UpDownCounter<long> ActiveJobs = Meter.CreateUpDownCounter<long>(
        "batchops.jobs.active", "{job}", "Job runs going on in this process (a worker's share of a queued job counts while it runs chunks of it).");

    internal static readonly Histogram<double> CheckpointDuration = Meter.CreateHistogram<double>(
        "batchops.store.checkpoint.duration", "s", "How long recording one chunk's outcomes in the job store took (one transaction).");

    internal static readonly Counter<long> ChunksClaimed = Meter.CreateCounter<long>(
        "batchops.worker.chunks.claimed", "{chunk}", "Chunks a worker claimed from the queue.");

    internal static readonly Counter<long> ChunksReclaimed = Meter.CreateCounter<long>(
        "batchops.worker.chunks.reclaimed", "{chunk}", "Claimed chunks that another worker had held before, until its lease ran out (it died, hung or lost the database).");

    internal static readonly Counter<long> LateResultsDiscarded = Meter.CreateCounter<long>(
        "batchops.worker.results.discarded", "{chunk}", "Chunks whose results a worker discarded: its lease had run out and another worker had claimed the chunk.");

    /// <summary>
    /// The runs going on, read when their items are observed (nothing is measured per item: the runs count
    /// their items anyway), and what ended runs counted, folded in under the same lock as a run leaves.
    /// </summary>
    private static readonly HashSet<LiveRun> Live = [];

    private static readonly Dictionary<(RunTags Tags, ItemStatus Status), long> EndedItems = [];

    private static readonly Dictionary<RunTags, long> EndedRetries = [];

    private static readonly ItemStatus[] EndStatuses = [ItemStatus.Succeeded, ItemStatus.Failed, ItemStatus.Skipped, ItemStatus.Cancelled];

    static BatchTelemetry()
    {
        Meter.CreateObservableCounter(
            "batchops.items", ObserveItems, "{item}", "Items that ended, by status (Succeeded, Failed, Skipped, Cancelled), operation kind and job name.");
        Meter.CreateObservableCounter(
            "batchops.item.retries", ObserveRetries, "{retry}", "Attempts after an item's first (its retries), by operation kind and job name.");
        Meter.CreateObservableUpDownCounter(
            "batchops.items.running", ObserveRunning, "{item}", "Items being run now (started, no outcome yet), by operation kind and job name.");
    }

    /// <summary>What a run counts of its items, read when they are observed.</summary>
    internal interface IRunCounts
    {
        long Running { get; }

        long Retries { get; }

        long Ended(ItemStatus status);
    }

    /// <summary>The tags of a run's measurements: the job's name and operation kind.</summary>
    internal static TagList Tags(RunTags tags, string? status = null)
    {
        var list = new TagList { { JobNameTag, tags.JobName }, { KindTag, tags.Kind } };
        if (status is not null)
        {
            list.Add(StatusTag, status);
        }

        return list;
    }

    /// <summary>Counts a run's items while it goes on; disposing the handle folds its final counts into the ended runs'.</summary>
    internal static IDisposable Track(RunTags tags, IRunCounts counts)
    {
        var run = new LiveRun(tags, counts);
        lock (Live)
        {
            Live.Add(run);
        }

        return run;
    }

    private static List<Measurement<long>> ObserveItems()
    {
        lock (Live)
        {
            var totals = new Dictionary<(RunTags, ItemStatus), long>(EndedItems);
            foreach (var run in Live)
            {
                foreach (var status in EndStatuses)
                {
                    totals[(run.Tags, status)] = totals.GetValueOrDefault((run.Tags, status)) + run.Counts.Ended(status);
                }
            }

            return [.. totals.Where(t => t.Value > 0).Select(t => new Measurement<long>(t.Value, Tags(t.Key.Item1, StatusName(t.Key.Item2))))];
        }
    }

    private static List<Measurement<long>> ObserveRetries()
    {
        lock (Live)
        {
            var totals = new Dictionary<RunTags, long>(EndedRetries);
            foreach (var run in Live)
            {
                totals[run.Tags] = totals.GetValueOrDefault(run.Tags) + run.Counts.Retries;
            }

            return [.. totals.Where(t => t.Value > 0).Select(t => new Measurement<long>(t.Value, Tags(t.Key)))];
        }
    }

    private static List<Measurement<long>> ObserveRunning()
    {
        lock (Live)
        {
            return [.. Live.GroupBy(r => r.Tags).Select(g => new Measurement<long>(g.Sum(r => Math.Max(0, r.Counts.Running)), Tags(g.Key)))];
        }
    }

    /// <summary>
    /// How many item durations a chunk records at most: every item's in chunks up to this size, an evenly
    /// spread sample of larger ones (a recorded measurement costs as much as a trivial item; the counts come
    /// from batchops.items, whole, and a uniform sample keeps the distribution's quantiles).
    /// </summary>
    public const int DurationsPerChunk = 32;

    /// <summary>Records a sample of a chunk's item durations (<see cref="DurationsPerChunk"/>).</summary>
    internal static void ChunkEnded<TIn, TOut>(RunTags tags, ItemResult<TIn, TOut>[] results)
    {
        if (!ItemDuration.Enabled || results.Length == 0)
        {
            return;
        }

        var common = Tags(tags);
        var stride = (results.Length + DurationsPerChunk - 1) / DurationsPerChunk;
        for (var i = 0; i < results.Length; i += stride)
        {
            if (results[i].Attempts > 0)
            {
                var measured = common;
                measured.Add(StatusTag, StatusName(results[i].Status));
                ItemDuration.Record(results[i].Duration.TotalSeconds, measured);
            }
        }
    }

    /// <summary>
    /// Starts a job run: its span (a child of the caller's current span, current for the run), counted among
    /// the active jobs until disposed; <see cref="JobRun.End"/> counts how it ended.
    /// </summary>
    public static JobRun StartJobRun(string jobId, string jobName, string kind, string run) => new(jobId, new RunTags(jobName, kind), run);

    /// <summary>Records how long one chunk's outcomes took to be recorded in the store.</summary>
    internal static void CheckpointRecorded(TimeSpan took, RunTags tags)
    {
        if (CheckpointDuration.Enabled)
        {
            CheckpointDuration.Record(took.TotalSeconds, Tags(tags));
        }
    }

    /// <summary>Counts a job that ended (or went over to its rollback) with its status.</summary>
    public static void JobEnded(string jobName, string kind, JobStatus status) => Jobs.Add(1, Tags(new RunTags(jobName, kind), status.ToString()));

    /// <summary>Counts a chunk a worker claimed, and whether another worker had held it before.</summary>
    internal static void ChunkClaimed(string jobName, string kind, bool reclaimed)
    {
        var tags = Tags(new RunTags(jobName, kind));
        ChunksClaimed.Add(1, tags);
        if (reclaimed)
        {
            ChunksReclaimed.Add(1, tags);
        }
    }

    /// <summary>Counts a chunk whose results a worker discarded (its claim had passed to another worker).</summary>
    internal static void ResultsDiscarded(string jobName, string kind) => LateResultsDiscarded.Add(1, Tags(new RunTags(jobName, kind)));

    /// <summary>A job run in this process, as metrics and a span see it.</summary>
    public sealed class JobRun : IDisposable
    {
        private readonly RunTags _tags;
        private readonly Activity? _activity;
        private int _disposed;

        internal JobRun(string jobId, RunTags tags, string run)
        {
            _tags = tags;
            ActiveJobs.Add(1, Tags(tags));
            _activity = Source.StartActivity(JobSpan, ActivityKind.Internal);
            if (_activity is not null)
            {
                _activity.SetTag(JobNameTag, tags.JobName);
                _activity.SetTag(KindTag, tags.Kind);
                _activity.SetTag("batchops.job.id", jobId);
                _activity.SetTag("batchops.run", run);
            }
        }

        /// <summary>Counts the run's end with the job's status (once), and marks the span failed for a failed job.</summary>
        public void End(JobStatus status, string? message)
        {
            JobEnded(_tags.JobName, _tags.Kind, status);
            if (_activity is not null)
            {
                _activity.SetTag(StatusTag, status.ToString());
                if (status is JobStatus.Failed or JobStatus.RollbackFailed)
                {
                    _activity.SetStatus(ActivityStatusCode.Error, message);
                }
            }
        }

        /// <summary>Ends the span, and the run's count among the active jobs.</summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                ActiveJobs.Add(-1, Tags(_tags));
                _activity?.Dispose();
            }
        }
    }

    private static string StatusName(ItemStatus status) => status switch
    {
        ItemStatus.Succeeded => nameof(ItemStatus.Succeeded),
        ItemStatus.Failed => nameof(ItemStatus.Failed),
        ItemStatus.Skipped => nameof(ItemStatus.Skipped),
        ItemStatus.Cancelled => nameof(ItemStatus.Cancelled),
        _ => status.ToString(),
    };

    private sealed class LiveRun(RunTags tags, IRunCounts counts) : IDisposable
    {
        private int _disposed;

        public RunTags Tags { get; } = tags;

        public IRunCounts Counts { get; } = counts;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            lock (Live)
            {
                Live.Remove(this);
                foreach (var status in EndStatuses)
                {
                    EndedItems[(Tags, status)] = EndedItems.GetValueOrDefault((Tags, status)) + Counts.Ended(status);
                }

                EndedRetries[Tags] = EndedRetries.GetValueOrDefault(Tags) + Counts.Retries;
            }
        }
    }
}

/// <summary>The bounded tags of a run's measurements.</summary>
/// <param name="JobName">The job's name; "(none)" for a run without a stored job.</param>
/// <param name="Kind">The operation kind.</param>
public sealed record RunTags(string JobName, string Kind)
{
    /// <summary>A run that names neither (the executor used alone).</summary>
    public static RunTags None { get; } = new("(none)", "(none)");
}
