using System.Text.Json;

namespace BatchOps.Engine.Jobs;

/// <summary>Stores JSON values as their compact JSON text (format "json").</summary>
public sealed class JsonPayloadCodec : IPayloadCodec<JsonElement>
{
    /// <summary>The shared instance.</summary>
    public static JsonPayloadCodec Instance { get; } = new();

    /// <inheritdoc/>
    public string Format => "json";

    /// <inheritdoc/>
    public string Serialize(JsonElement value) => value.GetRawText();

    /// <inheritdoc/>
    public JsonElement Deserialize(string payload)
    {
        using var document = JsonDocument.Parse(payload);
        return document.RootElement.Clone();
    }
}
