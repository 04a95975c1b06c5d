using System.Text.Json;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// The module's runs are object-typed; jobs whose items are JSON and whose outputs are text, as batchops stores
/// them (Write-BatchTable's sql runs, spec jobs), are carried through them boxed: the two codecs and the
/// unboxing of a chunk's items.
/// </summary>
internal static class JsonBoxing
{
    /// <summary>Items stored as JSON, carried as boxed <see cref="JsonElement"/>s.</summary>
    public static readonly IPayloadCodec<object?> Items = new Boxed<JsonElement>(JsonPayloadCodec.Instance);

    /// <summary>Outputs stored as text, carried as strings.</summary>
    public static readonly IPayloadCodec<object?> Outputs = new Boxed<string?>(TextPayloadCodec.Instance);

    /// <summary>One boxed item as the JSON item it carries.</summary>
    public static BatchItem<JsonElement> Unbox(BatchItem<object?> item) => new(item.Index, (JsonElement)item.Value!, item.Key);

    /// <summary>Runs a JSON chunk operation over boxed items; its text outputs come back boxed.</summary>
    public static async ValueTask<IReadOnlyList<object?>?> RunChunkAsync(ChunkOperation<JsonElement, string?> chunk, IReadOnlyList<BatchItem<object?>> items, CancellationToken cancellationToken) =>
        (await chunk([.. items.Select(Unbox)], cancellationToken).ConfigureAwait(false))?.Cast<object?>().ToArray();

    private sealed class Boxed<T>(IPayloadCodec<T> inner) : IPayloadCodec<object?>
    {
        public string Format => inner.Format;

        public string Serialize(object? value) => inner.Serialize(value is T typed ? typed : default!);

        public object? Deserialize(string payload) => inner.Deserialize(payload);
    }
}
