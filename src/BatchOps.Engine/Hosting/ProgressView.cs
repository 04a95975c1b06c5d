using System.Globalization;
using BatchOps.Engine.Progress;

namespace BatchOps.Engine.Hosting;

/// <summary>The fields of one Write-Progress record for a job, computed from a snapshot.</summary>
/// <param name="ActivityId">Stable per job, so each job has its own bar.</param>
/// <param name="Activity">"BatchOps: name (id)".</param>
/// <param name="StatusDescription">Counts and rate.</param>
/// <param name="PercentComplete">0-100, or -1 when the total is unknown.</param>
/// <param name="SecondsRemaining">ETA in seconds, or -1.</param>
/// <param name="Completed">True for the final record, which removes the bar.</param>
public sealed record ProgressView(int ActivityId, string Activity, string StatusDescription, int PercentComplete, int SecondsRemaining, bool Completed)
{
    /// <summary>Builds the progress record fields for a job, or for one part of it (a stage, its undo) with a bar of its own.</summary>
    public static ProgressView From(string jobId, string jobName, ProgressSnapshot snapshot, string? part = null)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        ArgumentNullException.ThrowIfNull(snapshot);
        var total = snapshot.Total?.ToString(CultureInfo.InvariantCulture) ?? "?";
        var status = string.Create(CultureInfo.InvariantCulture,
            $"{snapshot.Completed}/{total} done: {snapshot.Succeeded} ok, {snapshot.Failed} failed, {snapshot.Running} running, {snapshot.ItemsPerSecond:F1} items/s");
        return new ProgressView(
            ActivityId: (int)(StableHash(part is null ? jobId : $"{jobId}/{part}") & 0x7FFFFFFF),
            Activity: part is null ? $"BatchOps: {jobName} ({jobId})" : $"BatchOps: {jobName} ({jobId}): {part}",
            StatusDescription: status,
            PercentComplete: snapshot.Percent is { } p ? (int)Math.Clamp(Math.Floor(p), 0, 100) : -1,
            SecondsRemaining: snapshot.EstimatedRemaining is { } eta ? (int)Math.Min(int.MaxValue, Math.Ceiling(eta.TotalSeconds)) : -1,
            Completed: snapshot.IsFinal);
    }

    /// <summary>The progress record of a stored job as read from the store (Wait-BatchJob), counts from its items.</summary>
    public static ProgressView ForJob(BatchOps.Engine.Store.JobRecord job, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(job);
        var c = job.Counts;
        return From(job.Id, job.Name, new ProgressSnapshot
        {
            Total = c.Total,
            Succeeded = c.Succeeded,
            Failed = c.Failed,
            Skipped = c.Skipped,
            Cancelled = c.Cancelled,
            Elapsed = job.StartedAt is { } started && now > started ? now - started : TimeSpan.Zero,
        });
    }

    private static uint StableHash(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return hash;
    }
}
