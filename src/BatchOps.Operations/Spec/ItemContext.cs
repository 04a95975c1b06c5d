using System.Text.Json;
using BatchOps.Engine.Jobs;

namespace BatchOps.Operations.Spec;

/// <summary>
/// What a template knows of an item besides its fields: its index and, while a job runs, the job's id, the
/// item's key and stage, and for an undo the output of the item's forward operation. Without a job (a dry
/// run) {jobId} reads "(job id)".
/// </summary>
public readonly record struct ItemContext(long Index, string? JobId = null, string? Key = null, string? Stage = null)
{
    public const string NoJobYet = "(job id)";

    /// <summary>For an undo: what the forward operation returned (JSON when it parses as JSON, else a string).</summary>
    public JsonElement? Output { get; init; }

    /// <summary>Whether this is an undo of the item (its idempotency key differs from the forward one).</summary>
    public bool IsUndo { get; init; }

    /// <summary>The item's idempotency key (see <see cref="Engine.Jobs.IdempotencyKey"/>).</summary>
    public string IdempotencyKey => IsUndo
        ? Engine.Jobs.IdempotencyKey.ForUndo(JobId ?? NoJobYet, Index, Key, Stage)
        : Engine.Jobs.IdempotencyKey.For(JobId ?? NoJobYet, Index, Key, Stage);

    public static ItemContext Of(BatchItem<JsonElement> item, string jobId, string? stage = null) => new(item.Index, jobId, item.Key, stage);

    /// <summary>The context of an undo of <paramref name="item"/>, its forward output parsed when it is JSON.</summary>
    public static ItemContext OfUndo(BatchItem<Compensation<JsonElement, string?>> item, string jobId, string? stage) =>
        new(item.Index, jobId, item.Key, stage) { Output = ParseOutput(item.Value.Output), IsUndo = true };

    private static JsonElement ParseOutput(string? output)
    {
        if (string.IsNullOrWhiteSpace(output))
        {
            return JsonSerializer.SerializeToElement(output ?? string.Empty);
        }

        try
        {
            using var document = JsonDocument.Parse(output);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(output.TrimEnd('\r', '\n'));
        }
    }
}
