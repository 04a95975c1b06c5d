using System.Management.Automation;
using System.Linq.Expressions;
using System.Reflection;
using BatchOps.Engine.Hosting;
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

    // Whether a PSObject carries members or type names of its own (Add-Member, PSTypeNames.Insert). The
    // public ways to ask (Members, TypeNames, PSObject's InstanceMembers) copy collections and even
    // register the object in PowerShell's per-object tables, costing more than a trivial item; PowerShell's
    // own read-only checks are used instead. Where a PowerShell version lacks them, every PSObject takes
    // the full serializer.
    private static readonly Func<PSObject, bool>? IsDecorated = CompileIsDecorated();

    public static CliXmlCodec Instance { get; } = new();

    public string Format => CliXmlPlain.Format;

    /// <summary>
    /// The stored form of an input or output: compact CliXml (<see cref="CliXmlPlain.Compact"/>) with every
    /// SecureString (a PSCredential's password included) replaced by <see cref="ScriptSecrets.Marker"/>,
    /// since CliXml writes it in recoverable form.
    /// </summary>
    public string Serialize(object? value) => TrySerializePlain(value) ?? CliXmlPlain.Compact(ScriptSecrets.Redact(PSSerializer.Serialize(value, Depth)));

    /// <summary>CliXml that keeps SecureStrings: only for values held in memory (<see cref="SecretVault"/>), never stored.</summary>
    public static string SerializeKeepingSecrets(object? value) => TrySerializePlain(value) ?? CliXmlPlain.Compact(PSSerializer.Serialize(value, Depth));

    /// <summary>Reads a stored payload back, compact or (from an older store) a whole document.</summary>
    public object? Deserialize(string payload) => CliXmlPlain.TryRead(payload, out var value) ? value : PSSerializer.Deserialize(CliXmlPlain.Expand(payload));

    /// <summary>The compact CliXml of a plain value, or of a PSObject that only wraps one; null for anything else.</summary>
    internal static string? TrySerializePlain(object? value)
    {
        if (value is PSObject wrapped)
        {
            // A PSObject carrying members or type names of its own keeps the full serializer.
            var inner = wrapped.BaseObject;
            if (IsDecorated is null || inner is PSCustomObject || IsDecorated(wrapped))
            {
                return null;
            }

            value = inner;
        }

        return CliXmlPlain.TryWrite(value);
    }

    /// <summary>
    /// obj => PSObject.HasInstanceMembers(obj, out _) || obj.InternalTypeNames.Count == 0
    ///        || obj.InternalTypeNames[0] != obj.BaseObject.GetType().FullName
    /// </summary>
    private static Func<PSObject, bool>? CompileIsDecorated()
    {
        const BindingFlags Internal = BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance;
        var hasMembers = typeof(PSObject).GetMethod("HasInstanceMembers", Internal);
        var typeNames = typeof(PSObject).GetProperty("InternalTypeNames", Internal);
        if (hasMembers is not { IsStatic: true, ReturnType: var returns } || returns != typeof(bool) || hasMembers.GetParameters() is not [_, { IsOut: true } members]
            || typeNames is null || !typeof(IList<string>).IsAssignableFrom(typeNames.PropertyType))
        {
            return null;
        }

        try
        {
            var target = Expression.Parameter(typeof(PSObject));
            var found = Expression.Variable(members.ParameterType.GetElementType()!);
            var names = Expression.Variable(typeof(IList<string>));
            var ownTypeName = Expression.Property(Expression.Call(Expression.Property(target, nameof(PSObject.BaseObject)), nameof(GetType), null), nameof(Type.FullName));
            var body = Expression.Block(
                [found, names],
                Expression.Assign(names, Expression.Convert(Expression.Property(target, typeNames), typeof(IList<string>))),
                Expression.OrElse(
                    Expression.Call(hasMembers, target, found),
                    Expression.OrElse(
                        Expression.Equal(Expression.Property(Expression.Convert(names, typeof(ICollection<string>)), nameof(ICollection<string>.Count)), Expression.Constant(0)),
                        Expression.NotEqual(Expression.Property(names, "Item", Expression.Constant(0)), ownTypeName))));
            return Expression.Lambda<Func<PSObject, bool>>(body, target).Compile();
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
