using BatchOps.Operations;
using System.Globalization;
using System.Text.Json;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Engine.Workers;

namespace BatchOps.Cli.Output;

/// <summary>Writes jobs, items and statistics as aligned text tables or as JSON.</summary>
public static class Printer
{
    public static void Json<T>(TextWriter output, T value)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.WriteLine(JsonSerializer.Serialize(value, StoreJson.Indented));
    }

    /// <summary>Writes <paramref name="value"/> as JSON when asked, else with the text printer.</summary>
    public static void JsonOr<T>(TextWriter output, bool json, T value, Action<TextWriter, T> text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (json)
        {
            Json(output, value);
        }
        else
        {
            text(output, value);
        }
    }

    public static void JobTable(TextWriter output, IReadOnlyList<JobRecord> jobs)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(jobs);
        Table(output, ["ID", "NAME", "STATUS", "ITEMS", "OK", "FAILED", "CREATED"], jobs.Select(j => new[]
        {
            j.Id, j.Name, j.Status.ToString(), Num(j.Counts.Total), Num(j.Counts.Succeeded), Num(j.Counts.Failed), Time(j.CreatedAt),
        }));
        if (jobs.Count == 0)
        {
            output.WriteLine("(no jobs)");
        }
    }

    public static void WorkerTable(TextWriter output, IReadOnlyList<WorkerInfo> workers)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(workers);
        Table(output, ["NAME", "HOST", "PID", "STATE", "HELD", "RECORDED", "KINDS", "SEEN", "JOBS"], workers.Select(w => new[]
        {
            w.Name, w.Host, Num(w.ProcessId), w.State.ToString(), Num(w.ChunksHeld), Num(w.ChunksRecorded), string.Join(",", w.Kinds), Time(w.SeenAt),
            w.Jobs.Count == 0 ? "-" : string.Join(", ", w.Jobs),
        }));
        if (workers.Count == 0)
        {
            output.WriteLine("(no workers running: start one with 'batchops worker', or Start-BatchWorker in PowerShell)");
        }
        if (workers.Any(w => w.State == WorkerState.Stopping))
        {
            output.WriteLine("Stopping: asked to stop (batchops workers stop, Stop-BatchWorker); it claims nothing more, finishes the chunks it holds and exits.");
        }

        if (workers.Any(w => w.State == WorkerState.Missing))
        {
            output.WriteLine("Missing: not seen for longer than its lease (it died, hangs, or lost the database); its chunks pass to other workers.");
        }
    }

    public static void JobDetails(TextWriter output, JobRecord job)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(job);
        var c = job.Counts;
        var rows = new List<(string, string?)>
        {
            ("Id", job.Id),
            ("Name", job.Name),
            ("Description", job.Description),
            ("Tags", job.Tags.Count == 0 ? null : string.Join(", ", job.Tags)),
            ("Status", job.Status.ToString()),
            ("Message", job.Message),
            ("Items", $"{c.Total} total: {c.Succeeded} succeeded, {c.Failed} failed, {c.Skipped} skipped, {c.Cancelled} cancelled, {c.Pending + c.Running} pending"),
            ("Undone", job.RollingBack ? $"{c.Compensated} compensated, {c.CompensationFailed} compensation(s) failed" : null),
            ("Operation", job.Stages is null ? $"{job.OperationKind} {job.Operation}" : null),
            ("Undo", job.Undo is { } undo ? $"{undo.OperationKind} {undo.Operation}" : null),
            ("Settings", job.Settings.ToString()),
            ("Outputs", job.OutputsNotKept()),
            ("Created", Time(job.CreatedAt)),
            ("Last run", job.StartedAt is null ? "never" : $"#{job.RunCount}, {Time(job.StartedAt.Value)} to {(job.EndedAt is { } e ? Time(e) : "now")}"),
            ("Owner", job.Lease is { } l ? $"process {l.ProcessId} on {l.Host}, heartbeat {Time(l.HeartbeatAt)}" : null),
        };
        foreach (var (name, value) in rows.Where(r => r.Item2 is not null))
        {
            output.WriteLine($"{name,-12} {TerminalText.Escape(value)}");
        }
    }

    /// <summary>
    /// Who the job tells when it ends, each target with its notice of the job's last end (sent, failed with the
    /// error, being sent, or due); nothing for a job without targets.
    /// </summary>
    public static void Notices(TextWriter output, JobRecord job, IReadOnlyList<Engine.Notifications.NoticeRecord> notices)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(notices);
        var lines = Engine.Notifications.Notices.Summaries(job, notices);
        for (var i = 0; i < lines.Count; i++)
        {
            output.WriteLine($"{(i == 0 ? "Notify" : string.Empty),-12} {TerminalText.Escape(lines[i])}");
        }
    }

    /// <summary>The stages of a staged job, in the order they run, with their items by status.</summary>
    public static void StageTable(TextWriter output, IReadOnlyList<StageSummary> stages)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(stages);
        Table(output, ["STAGE", "AFTER", "STATUS", "ITEMS", "SUCCEEDED", "FAILED", "SKIPPED", "PENDING", "UNDONE", "OPERATION"], stages.Select(s => new[]
        {
            s.Stage.Name, string.Join(",", s.Stage.DependsOn), s.Status, Num(s.Counts.Total), Num(s.Counts.Succeeded), Num(s.Counts.Failed), Num(s.Counts.Skipped),
            Num(s.Counts.Pending + s.Counts.Running + s.Counts.Cancelled), Num(s.Counts.Compensated), $"{s.Stage.OperationKind}{(s.Stage.Undo is null ? string.Empty : " (undo: " + s.Stage.Undo.OperationKind + ")")}",
        }));
    }

    /// <summary>One job's stages (or its one unnamed stage) with counts, duration and rate (batchops stats --job).</summary>
    public static void StageStatisticsTable(TextWriter output, IReadOnlyList<StageStatistics> stages)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(stages);
        Table(output, ["STAGE", "AFTER", "STATUS", "ITEMS", "SUCCEEDED", "FAILED", "SKIPPED", "PENDING", "UNDONE", "STARTED", "DURATION", "ITEMS/S"], stages.Select(s => new[]
        {
            s.Stage.Length == 0 ? "(job)" : s.Stage, string.Join(",", s.DependsOn), s.Status, Num(s.Counts.Total), Num(s.Counts.Succeeded), Num(s.Counts.Failed), Num(s.Counts.Skipped),
            Num(s.Counts.Pending + s.Counts.Running + s.Counts.Cancelled), Num(s.Counts.Compensated + s.Counts.CompensationFailed),
            s.StartedAt is { } started ? Time(started) : "-",
            s.Duration is { } d ? d.ToString(@"hh\:mm\:ss\.f", CultureInfo.InvariantCulture) : "-",
            s.ItemsPerSecond is { } r ? r.ToString("F1", CultureInfo.InvariantCulture) : "-",
        }));
    }

    public static void ItemTable(TextWriter output, IEnumerable<StoredItem> items)
    {
        ArgumentNullException.ThrowIfNull(output);
        Table(output, ["INDEX", "KEY", "STATUS", "ATTEMPTS", "MS", "OUTPUT / ERROR"], items.Select(i => new[]
        {
            Num(i.Index), i.Key ?? string.Empty, i.Status.ToString(), Num(i.Attempts),
            i.Duration is { } d ? d.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) : string.Empty,
            Clip(i.Error?.Message ?? i.Output ?? string.Empty),
        }));
    }

    public static void Statistics(TextWriter output, StoreStatistics stats)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(stats);
        output.WriteLine($"Jobs         {stats.Jobs}");
        output.WriteLine($"By status    {Pairs(stats.ByStatus.Select(p => (p.Key.ToString(), p.Value)))}");
        output.WriteLine($"By tag       {Pairs(stats.ByTag.Select(p => (p.Key, p.Value)))}");
        var i = stats.Items;
        output.WriteLine($"Items        {i.Total} total: {i.Succeeded} succeeded, {i.Failed} failed, {i.Skipped + i.Cancelled} not run, {i.Pending + i.Running} pending");
        output.WriteLine($"Avg duration {(stats.AverageDuration is { } d ? d.ToString(@"hh\:mm\:ss\.f", CultureInfo.InvariantCulture) : "-")}");
        output.WriteLine($"Items/s      {(stats.ItemsPerSecond is { } r ? r.ToString("F1", CultureInfo.InvariantCulture) : "-")}");
        if (stats.StoreBytes is { } bytes)
        {
            output.WriteLine($"Store size   {Size(bytes)}{(stats.BytesPerItem is { } per ? $", {per.ToString("N0", CultureInfo.InvariantCulture)} bytes per item" : string.Empty)}");
        }
        output.WriteLine($"Active       {(stats.Active.Count == 0 ? "none" : string.Join(", ", stats.Active.Select(j => $"{j.Name} ({j.Id})")))}");
        output.WriteLine("Recent");
        JobTable(output, stats.Recent);
    }

    private static string Pairs(IEnumerable<(string Name, long Count)> pairs)
    {
        var text = string.Join(", ", pairs.OrderByDescending(p => p.Count).Select(p => $"{p.Name} {p.Count}"));
        return text.Length == 0 ? "-" : text;
    }

    private static void Table(TextWriter output, string[] header, IEnumerable<string[]> rows)
    {
        var all = rows.Select(row => row.Select(TerminalText.Escape).ToArray()).Prepend(header).ToList();
        var widths = header.Select((_, c) => all.Max(r => r[c].Length)).ToArray();
        foreach (var row in all)
        {
            output.WriteLine(string.Join("  ", row.Select((cell, c) => c == row.Length - 1 ? cell : cell.PadRight(widths[c]))).TrimEnd());
        }
    }

    private static string Num(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A size in bytes as people read it: 512 bytes, 3.4 KB, 12.0 MB, 1.2 GB.</summary>
    public static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.0", CultureInfo.InvariantCulture) + " GB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.0", CultureInfo.InvariantCulture) + " MB",
        >= 1L << 10 => (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KB",
        _ => $"{bytes} bytes",
    };

    private static string Time(DateTimeOffset value) => value.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static string Clip(string text)
    {
        text = TerminalText.Escape(text.ReplaceLineEndings(" "));
        return text.Length > 80 ? text[..77] + "..." : text;
    }
}
