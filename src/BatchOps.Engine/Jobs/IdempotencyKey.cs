namespace BatchOps.Engine.Jobs;

/// <summary>
/// Each item's idempotency key: the same for every attempt, resume and retry of the item, and different for
/// every other item of every job, so a receiver that honours it applies each item once. It is the job id
/// with the item's key when the item has one (escaped to stay header-safe), else with its index; in a staged
/// job the stage's name comes between (keys are unique within a stage). An undo of the item sends the key
/// with ":undo" appended: a different request from the one that created what it undoes.
/// </summary>
public static class IdempotencyKey
{
    /// <summary>The key of item <paramref name="index"/> (key <paramref name="key"/>, if it has one) of job <paramref name="jobId"/>.</summary>
    public static string For(string jobId, long index, string? key, string? stage = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        var prefix = string.IsNullOrEmpty(stage) ? jobId : $"{jobId}:{Uri.EscapeDataString(stage)}";
        return key is null
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{prefix}:{index}")
            : $"{prefix}:key:{Uri.EscapeDataString(key)}";
    }

    /// <summary>The key an undo of the item sends.</summary>
    public static string ForUndo(string jobId, long index, string? key, string? stage = null) => For(jobId, index, key, stage) + ":undo";
}
