using System.Management.Automation;
using BatchOps.Engine.Jobs;

namespace BatchOps.PowerShell.Scripting;

/// <summary>
/// Stores inputs and outputs with PowerShell's own serializer (CliXml, as Export-Clixml), so a later session
/// gets them back as (deserialized) objects with their properties.
/// </summary>
internal sealed class CliXmlCodec : IPayloadCodec<object?>
{
    /// <summary>Depth of nested properties kept; the same default as remoting.</summary>
    public const int Depth = 2;

    public static CliXmlCodec Instance { get; } = new();

    public string Format => "clixml";

    public string Serialize(object? value) => PSSerializer.Serialize(value, Depth);

    public object? Deserialize(string payload) => PSSerializer.Deserialize(payload);
}
