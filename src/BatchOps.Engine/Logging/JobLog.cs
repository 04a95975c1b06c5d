using System.Globalization;
using System.Text;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

namespace BatchOps.Engine.Logging;

/// <summary>
/// The human-readable log of a job, one file per job beside the store (logs/&lt;id&gt;.log), appended by
/// every run. Long lists are digested (first few and a count); each run ends with one line
/// <c>[SUCCESS] …</c> or <c>[FAILURE] …</c>. Thread-safe; a log that cannot be written never fails the job.
/// </summary>
public sealed class JobLog : IDisposable
{
    /// <summary>How many values a digest line shows before "... and N more".</summary>
    public const int DigestLength = 3;
    private readonly StreamWriter? _writer;
    private readonly TimeProvider _time;
    private readonly object _lock = new();

    private JobLog(StreamWriter? writer, TimeProvider time, string? path)
    {
        _writer = writer;
        _time = time;
        Path = path;
    }

    /// <summary>The log file, or null when logging is off or the file could not be opened.</summary>
    public string? Path { get; }

    /// <summary>Opens (appending) the log of a job in <paramref name="folder"/>; a null folder gives a log that writes nothing.</summary>
    public static JobLog Open(string? folder, string jobId, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        if (folder is null)
        {
            return new JobLog(null, time, null);
        }

        var path = System.IO.Path.Combine(folder, $"{jobId}.log");
        try
        {
            Directory.CreateDirectory(folder);
            var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            return new JobLog(new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true }, time, path);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return new JobLog(null, time, null);
        }
    }

    /// <summary>Writes the first line of a run.</summary>
    public void Start(JobRecord job, RunKind kind, long items) =>
        Write("START", $"run {job.RunCount} of job '{job.Name}' ({job.Id}): {Describe(kind)}, {items} item(s); operation {job.OperationKind}; settings: {job.Settings}");

    /// <summary>Writes an informational line.</summary>
    public void Info(string message) => Write("INFO", message);

    /// <summary>
    /// Writes an informational line with a digest of a long list, never the whole list: the first few values
    /// (each cut to 80 characters) and the count.
    /// </summary>
    public void Digest(string label, IReadOnlyCollection<string> firstValues, long count)
    {
        ArgumentNullException.ThrowIfNull(firstValues);
        var shown = firstValues.Take(DigestLength).Select(v => v.Length > 80 ? v[..77] + "..." : v);
        var more = count > DigestLength ? $", ... and {count - DigestLength} more" : string.Empty;
        Write("INFO", $"{label}: {count} ({string.Join(", ", shown)}{more})");
    }

    /// <summary>Writes one failed item with its error.</summary>
    public void Failure(long index, string? key, ItemError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var name = key is null ? $"item {index}" : $"item {index} ({key})";
        Write("FAIL", $"{name}: {error.Type}: {OneLine(error.Message)}");
    }

    /// <summary>Writes one failed compensation (undo) with its error.</summary>
    public void CompensationFailure(long index, string? key, ItemError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var name = key is null ? $"item {index}" : $"item {index} ({key})";
        Write("UNDO-FAIL", $"undo of {name}: {error.Type}: {OneLine(error.Message)}");
    }

    /// <summary>Writes the line that ends a rollback: how many items were compensated and how many compensations failed.</summary>
    public void Rollback(JobRecord job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var c = job.Counts;
        Write("ROLLBACK", string.Create(CultureInfo.InvariantCulture,
            $"{job.Status}: {c.Compensated} compensated, {c.CompensationFailed} compensation(s) failed, {c.Succeeded} succeeded item(s) not compensated. {job.Message}"));
    }

    /// <summary>Writes the last line of a run: [SUCCESS] when the job completed, [FAILURE] otherwise.</summary>
    public void End(JobRecord job, JobSummary run)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(run);
        WriteEnd(job, string.Create(CultureInfo.InvariantCulture, $"this run {run.Succeeded + run.Failed} item(s) in {run.Duration:hh\\:mm\\:ss\\.f} ({run.ItemsPerSecond:F1}/s)"), run.Message);
    }

    /// <summary>Writes the last line of a queued job its workers ended: the job's counts and how long its workers ran it.</summary>
    public void EndQueued(JobRecord job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var ran = job.StartedAt is { } started && job.EndedAt is { } ended ? ended - started : TimeSpan.Zero;
        WriteEnd(job, string.Create(CultureInfo.InvariantCulture, $"run by workers in {ran:hh\\:mm\\:ss\\.f}"), job.Message);
    }

    private void WriteEnd(JobRecord job, string run, string? message)
    {
        var c = job.Counts;
        var line = string.Create(CultureInfo.InvariantCulture,
            $"{job.Status}: {c.Succeeded} succeeded, {c.Failed} failed, {c.Skipped} skipped, {c.Cancelled} cancelled, {c.Pending + c.Running} pending of {c.Total}; {run}");
        if (message is not null)
        {
            line += $". {message}";
        }

        Write(job.Status == JobStatus.Completed ? "SUCCESS" : "FAILURE", line);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_lock)
        {
            _writer?.Dispose();
        }
    }

    private static string Describe(RunKind kind) => kind == RunKind.Resume ? "run unfinished items" : "retry failed items";

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");

    private void Write(string level, string message)
    {
        if (_writer is null)
        {
            return;
        }

        var stamp = _time.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        lock (_lock)
        {
            try
            {
                _writer.WriteLine($"{stamp} [{level}] {OneLine(message)}");
            }
            catch (IOException)
            {
                // A full disk must not fail the job; the store still has every outcome.
            }
        }
    }
}
