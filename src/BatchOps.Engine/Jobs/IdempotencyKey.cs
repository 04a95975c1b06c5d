namespace BatchOps.Engine.Jobs;

/// <summary>
/// Each item's idempotency key: the same for every attempt, resume and retry of the item, and different for
/// every other item of every job, so a receiver that honours it applies each item once. It is the job id
/// with the item's key when the item has one (escaped to stay header-safe), else with its index.
/// </summary>
public static class IdempotencyKey
{
    /// <summary>The key of item <paramref name="index"/> (key <paramref name="key"/>, if it has one) of job <paramref name="jobId"/>.</summary>
    public static string For(string jobId, long index, string? key)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        return key is null
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{jobId}:{index}")
            : $"{jobId}:key:{Uri.EscapeDataString(key)}";
    }
}
