using BatchOps.Engine.Jobs;

namespace BatchOps.Cli.Spec;

/// <summary>
/// What a template knows of an item besides its fields: its index and, while a job runs, the job's id and
/// the item's key. Without a job (a dry run) {jobId} reads "(job id)".
/// </summary>
public readonly record struct ItemContext(long Index, string? JobId = null, string? Key = null)
{
    public const string NoJobYet = "(job id)";

    /// <summary>The item's idempotency key (see <see cref="Engine.Jobs.IdempotencyKey"/>).</summary>
    public string IdempotencyKey => Engine.Jobs.IdempotencyKey.For(JobId ?? NoJobYet, Index, Key);

    public static ItemContext Of(BatchItem<System.Text.Json.JsonElement> item, string jobId) => new(item.Index, jobId, item.Key);
}
