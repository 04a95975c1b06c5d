using System.Globalization;
using System.Text.Json;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Notifications;

namespace BatchOps.Engine.Store;

/// <summary>
/// How long ended jobs stay, per status: the "retention" section of the settings file, for example
/// <c>{ "Completed": "30d", "CompletedWithErrors": "60d", "*": "180d" }</c> ("*" for every other ending).
/// batchops run applies it when it starts; batchops serve and batchops worker when they start and then
/// hourly. Each application is a prune (<see cref="Prune"/>): ended jobs only, each under its lease.
/// </summary>
public sealed record Retention(IReadOnlyDictionary<JobStatus, TimeSpan> Ages)
{
    /// <summary>How often the server and workers apply it.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    /// <summary>Nothing is removed.</summary>
    public static Retention None { get; } = new(new Dictionary<JobStatus, TimeSpan>());

    /// <summary>An age: 30d, 12h, 90m, 45s, or days.hours:minutes:seconds; null when it is none of these.</summary>
    public static TimeSpan? ParseAge(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var value = text.Trim();
        if (value.Length > 1 && double.TryParse(value[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0 && !double.IsInfinity(n))
        {
            switch (char.ToLowerInvariant(value[^1]))
            {
                case 'd': return TimeSpan.FromDays(n);
                case 'h': return TimeSpan.FromHours(n);
                case 'm': return TimeSpan.FromMinutes(n);
                case 's': return TimeSpan.FromSeconds(n);
            }
        }

        return TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var span) && span >= TimeSpan.Zero ? span : null;
    }

    /// <summary>The section as written (an object of status: age); throws <see cref="FormatException"/> naming the status or age that is wrong.</summary>
    public static Retention Parse(JsonElement section)
    {
        if (section.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("\"retention\" must be an object of status: age, for example { \"Completed\": \"30d\", \"*\": \"180d\" }.");
        }

        var ages = new Dictionary<JobStatus, TimeSpan>();
        TimeSpan? rest = null;
        foreach (var entry in section.EnumerateObject())
        {
            var age = entry.Value.ValueKind == JsonValueKind.String ? ParseAge(entry.Value.GetString()!) : null;
            if (age is null)
            {
                throw new FormatException($"\"retention\": \"{entry.Name}\": {entry.Value} is not an age; write a number with d, h, m or s (\"30d\").");
            }

            if (entry.Name == "*")
            {
                rest = age;
            }
            else if (Enum.TryParse<JobStatus>(entry.Name, ignoreCase: true, out var status) && Notices.Ended(status))
            {
                ages[status] = age.Value;
            }
            else
            {
                throw new FormatException($"\"retention\": \"{entry.Name}\" is not how a job ends; use {string.Join(", ", Notices.EndStatuses)}, or \"*\" for every other one.");
            }
        }

        foreach (var status in Notices.EndStatuses.Where(s => rest is not null && !ages.ContainsKey(s)))
        {
            ages[status] = rest!.Value;
        }

        return new Retention(ages);
    }

    /// <summary>Removes what has outlived its age; null when nothing was due (or no ages are set).</summary>
    public async Task<PruneResult?> ApplyAsync(IJobStore store, string? logFolder, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var removed = new List<PruneCandidate>();
        var left = new List<(JobRecord, string)>();
        long before = 0, after = 0;
        foreach (var group in Ages.GroupBy(a => a.Value, a => a.Key))
        {
            var candidates = await Prune.FindAsync(store, group.Key, [.. group], now, cancellationToken).ConfigureAwait(false);
            if (candidates.Count == 0)
            {
                continue;
            }

            var result = await Prune.RemoveAsync(store, candidates, group.Key, now, cancellationToken, logFolder).ConfigureAwait(false);
            removed.AddRange(result.Removed);
            left.AddRange(result.Left);
            before = before == 0 ? result.SizeBefore : before;
            after = result.SizeAfter;
        }

        return removed.Count == 0 && left.Count == 0 ? null : new PruneResult(removed, left, before, after);
    }

    /// <summary>
    /// The ended jobs retention removes next, soonest first (those already due first), with when each falls
    /// due: at most <paramref name="count"/>. Empty without ages.
    /// </summary>
    public async Task<IReadOnlyList<(JobRecord Job, DateTimeOffset Due)>> NextAsync(IJobStore store, int count, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (Ages.Count == 0)
        {
            return [];
        }

        var jobs = await store.FindJobsAsync(new JobQuery { Statuses = [.. Ages.Keys] }, cancellationToken).ConfigureAwait(false);
        return [.. jobs
            .Where(j => j is { Queued: false, Lease: null } && Notices.Ended(j.Status))
            .Select(j => (Job: j, Due: (j.EndedAt ?? j.CreatedAt) + Ages[j.Status]))
            .OrderBy(d => d.Due)
            .Take(count)];
    }

    /// <summary>
    /// Applies it once and says what happened through <paramref name="report"/> (a line, and whether it is a
    /// failure): what was removed, or why nothing could be (a store error is reported, never thrown).
    /// Nothing is said when nothing was due.
    /// </summary>
    public async Task ApplyReportingAsync(IJobStore store, string? logFolder, TimeProvider time, Action<string, bool> report, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(report);
        if (Ages.Count == 0)
        {
            return;
        }

        try
        {
            if (await ApplyAsync(store, logFolder, time.GetUtcNow(), cancellationToken).ConfigureAwait(false) is { } result)
            {
                report(Describe(result), false);
            }
        }
        catch (StoreException error)
        {
            report($"retention not applied: {error.Message}", true);
        }
    }

    /// <summary>
    /// Applies it now and then every <see cref="Interval"/> until <paramref name="stop"/> (what long-running
    /// processes do: batchops serve and worker, Start-BatchWorker), reporting as <see cref="ApplyReportingAsync"/>.
    /// The first application always runs; <paramref name="stop"/> ends the waiting, <paramref name="abort"/>
    /// an application under way.
    /// </summary>
    public async Task RunAsync(IJobStore store, string? logFolder, TimeProvider time, Action<string, bool> report, CancellationToken stop, CancellationToken abort)
    {
        if (Ages.Count == 0)
        {
            return;
        }

        try
        {
            using var timer = new PeriodicTimer(Interval, time);
            do
            {
                await ApplyReportingAsync(store, logFolder, time, report, abort).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested || abort.IsCancellationRequested)
        {
        }
    }

    /// <summary>What an application did, as one line for a log.</summary>
    public static string Describe(PruneResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return $"retention: removed {result.Removed.Count} job(s) ({string.Join(", ", result.Removed.Select(r => $"'{r.Job.Name}' {r.Job.Status}"))}), {result.Items:N0} item(s), about {result.Bytes:N0} bytes; the store went from {result.SizeBefore:N0} to {result.SizeAfter:N0} bytes"
            + (result.Left.Count == 0 ? "." : $"; left {string.Join(", ", result.Left.Select(l => $"'{l.Job.Name}' ({l.Reason})"))}.");
    }
}
