namespace BatchOps.Engine.Jobs;

/// <summary>Stores strings as they are (format "text"); null is stored as an empty string.</summary>
public sealed class TextPayloadCodec : IPayloadCodec<string?>
{
    /// <summary>The shared instance.</summary>
    public static TextPayloadCodec Instance { get; } = new();

    /// <inheritdoc/>
    public string Format => "text";

    /// <inheritdoc/>
    public string Serialize(string? value) => value ?? string.Empty;

    /// <inheritdoc/>
    public string? Deserialize(string payload) => payload;
}
