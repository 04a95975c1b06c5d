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

    internal static readonly Counter<long> Items = Meter.CreateCounter<long>(
        "batchops.items", "{item}", "Items that ended, by status (Succeeded, Failed, Skipped, Cancelled), operation kind and job name.");

    internal static readonly Histogram<double> ItemDuration = Meter.CreateHistogram<double>(
        "batchops.item.duration", "s", "How long an item took from its first attempt to its outcome, retries and their delays included.");

    internal static readonly Counter<long> Retries = Meter.CreateCounter<long>(
        "batchops.item.retries", "{retry}", "Attempts after an item's first (its retries), by operation kind and job name.");

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

    /// <summary>The runs going on, read when items running now are observed (nothing per item).</summary>
    private static readonly ConcurrentDictionary<RunningItems, byte> Running = new();

    static BatchTelemetry() => Meter.CreateObservableUpDownCounter(
        "batchops.items.running", ObserveRunning, "{item}", "Items being run now (started, no outcome yet), by operation kind and job name.");

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

    /// <summary>Counts a run's running items while it is registered (until the returned handle is disposed).</summary>
    internal static IDisposable TrackRunning(RunTags tags, Func<long> running)
    {
        var entry = new RunningItems(tags, running);
        Running.TryAdd(entry, 0);
        return entry;
    }

    private static IEnumerable<Measurement<long>> ObserveRunning() =>
        Running.Keys.GroupBy(r => r.Tags).Select(g => new Measurement<long>(g.Sum(r => Math.Max(0, r.Count())), Tags(g.Key)));

    /// <summary>Records the outcomes of one chunk: counts per status (one measurement each), each item's duration and retries.</summary>
    internal static void ChunkEnded<TIn, TOut>(RunTags tags, IReadOnlyList<ItemResult<TIn, TOut>> results)
    {
        if (!Items.Enabled && !ItemDuration.Enabled && !Retries.Enabled)
        {
            return;
        }

        Span<long> byStatus = stackalloc long[8];
        long retries = 0;
        var durations = ItemDuration.Enabled;
        var common = Tags(tags);
        foreach (var result in results)
        {
            if ((uint)result.Status < (uint)byStatus.Length)
            {
                byStatus[(int)result.Status]++;
            }

            if (result.Attempts > 1)
            {
                retries += result.Attempts - 1;
            }

            if (durations && result.Attempts > 0)
            {
                var measured = common;
                measured.Add(StatusTag, StatusName(result.Status));
                ItemDuration.Record(result.Duration.TotalSeconds, measured);
            }
        }

        for (var status = 0; status < byStatus.Length; status++)
        {
            if (byStatus[status] > 0)
            {
                var measured = common;
                measured.Add(StatusTag, StatusName((ItemStatus)status));
                Items.Add(byStatus[status], measured);
            }
        }

        if (retries > 0)
        {
            Retries.Add(retries, common);
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

    private sealed class RunningItems(RunTags tags, Func<long> count) : IDisposable
    {
        public RunTags Tags { get; } = tags;

        public long Count() => count();

        public void Dispose() => Running.TryRemove(this, out _);
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
