using BatchOps.Engine.Jobs;

namespace BatchOps.PowerShell.Scripting;

/// <summary>Reads payloads stored by other front ends (text) as plain strings, for Get-BatchItem.</summary>
internal sealed class RawTextCodec(string format) : IPayloadCodec<object?>
{
    public string Format => format;

    public string Serialize(object? value) => value?.ToString() ?? string.Empty;

    public object? Deserialize(string payload) => payload;

    /// <summary>The codec for a job's stored format: CliXml objects, JSON as PSCustomObjects, anything else as text.</summary>
    public static IPayloadCodec<object?> For(string format) => format switch
    {
        _ when format == CliXmlCodec.Instance.Format => CliXmlCodec.Instance,
        _ when format == JsonPayloadCodec.Instance.Format => JsonObjects,
        _ => new RawTextCodec(format),
    };

    private static readonly IPayloadCodec<object?> JsonObjects = new JsonObjectCodec();

    /// <summary>JSON payloads (batchops and sql jobs) as PowerShell shows them: objects with properties, as ConvertFrom-Json gives.</summary>
    private sealed class JsonObjectCodec : IPayloadCodec<object?>
    {
        public string Format => JsonPayloadCodec.Instance.Format;

        public string Serialize(object? value) => value?.ToString() ?? string.Empty;

        public object? Deserialize(string payload)
        {
            try
            {
                return Tables.JsonRows.ToObject(JsonPayloadCodec.Instance.Deserialize(payload));
            }
            catch (System.Text.Json.JsonException)
            {
                return payload;
            }
        }
    }
}
