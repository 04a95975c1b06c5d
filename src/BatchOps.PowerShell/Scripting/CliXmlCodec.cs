using System.Management.Automation;
using BatchOps.Engine.Jobs;

namespace BatchOps.PowerShell.Scripting;

/// <summary>
/// Stores inputs and outputs with PowerShell's own serializer (CliXml, as Export-Clixml), so a later session
/// gets them back as (deserialized) objects with their properties. Plain numbers, strings, booleans and
/// GUIDs, the bulk of what is piped in and out, are written and read directly in the same CliXml
/// (<see cref="CliXmlPlain"/>): PSSerializer builds an XmlWriter per call, which cost more than running a
/// trivial item.
/// </summary>
internal sealed class CliXmlCodec : IPayloadCodec<object?>
{
    /// <summary>Depth of nested properties kept; the same default as remoting.</summary>
    public const int Depth = 2;

    // How many members were added to a PSObject itself (Add-Member). PowerShell keeps no public, cheap way
    // to ask (Members.Match costs more than the serializer), so its own internal count is read; where
    // a PowerShell version lacks it, every PSObject takes the full serializer.
    private static readonly Func<PSObject, int>? InstanceMemberCount = CompileInstanceMemberCount();

    public static CliXmlCodec Instance { get; } = new();

    public string Format => CliXmlPlain.Format;

    public string Serialize(object? value) => TrySerializePlain(value) ?? PSSerializer.Serialize(value, Depth);

    public object? Deserialize(string payload) => CliXmlPlain.TryRead(payload, out var value) ? value : PSSerializer.Deserialize(payload);

    /// <summary>The CliXml of a plain value, or of a PSObject that only wraps one; null for anything else.</summary>
    internal static string? TrySerializePlain(object? value)
    {
        if (value is PSObject wrapped)
        {
            // A PSObject carrying members or type names of its own keeps the full serializer.
            var inner = wrapped.BaseObject;
            if (InstanceMemberCount is null || inner is PSCustomObject || wrapped.TypeNames.Count == 0
                || !string.Equals(wrapped.TypeNames[0], inner.GetType().FullName, StringComparison.Ordinal) || InstanceMemberCount(wrapped) > 0)
            {
                return null;
            }

            value = inner;
        }

        return CliXmlPlain.TryWrite(value);
    }

    private static Func<PSObject, int>? CompileInstanceMemberCount()
    {
        try
        {
            var target = System.Linq.Expressions.Expression.Parameter(typeof(PSObject));
            var members = System.Linq.Expressions.Expression.Property(target, "InstanceMembers");
            var count = System.Linq.Expressions.Expression.Property(members, "Count");
            return System.Linq.Expressions.Expression.Lambda<Func<PSObject, int>>(count, target).Compile();
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
