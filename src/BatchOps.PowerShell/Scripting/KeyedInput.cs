using BatchOps.Engine.Jobs;

namespace BatchOps.PowerShell.Scripting;

/// <summary>An input with the key read on the pipeline thread (script properties need a runspace).</summary>
internal sealed record KeyedInput(object? Value, string? Key)
{
    /// <summary>Stores the value with CliXml and drops the key (the store keeps keys apart).</summary>
    public static IPayloadCodec<KeyedInput> Codec { get; } = new KeyedInputCodec();

    private sealed class KeyedInputCodec : IPayloadCodec<KeyedInput>
    {
        public string Format => CliXmlCodec.Instance.Format;

        public string Serialize(KeyedInput value) => CliXmlCodec.Instance.Serialize(value.Value);

        public KeyedInput Deserialize(string payload) => new(CliXmlCodec.Instance.Deserialize(payload), null);
    }
}
