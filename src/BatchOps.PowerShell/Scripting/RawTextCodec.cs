using BatchOps.Engine.Jobs;

namespace BatchOps.PowerShell.Scripting;

/// <summary>Reads payloads stored by other front ends (JSON, text) as plain strings, for Get-BatchItem.</summary>
internal sealed class RawTextCodec(string format) : IPayloadCodec<object?>
{
    public string Format => format;

    public string Serialize(object? value) => value?.ToString() ?? string.Empty;

    public object? Deserialize(string payload) => payload;

    public static IPayloadCodec<object?> For(string format) =>
        format == CliXmlCodec.Instance.Format ? CliXmlCodec.Instance : new RawTextCodec(format);
}
