using System.Globalization;
using System.Management.Automation;
using System.Text;
using BatchOps.Engine.Jobs;

namespace BatchOps.PowerShell.Scripting;

/// <summary>
/// Stores inputs and outputs with PowerShell's own serializer (CliXml, as Export-Clixml), so a later session
/// gets them back as (deserialized) objects with their properties. Plain numbers, strings, booleans and
/// GUIDs, the bulk of what is piped in and out, are written directly in the same CliXml (one line, no
/// whitespace): PSSerializer builds an XmlWriter per call, which cost more than running a trivial item.
/// </summary>
internal sealed class CliXmlCodec : IPayloadCodec<object?>
{
    /// <summary>Depth of nested properties kept; the same default as remoting.</summary>
    public const int Depth = 2;

    private const string Head = "<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">";
    private const string Tail = "</Objs>";

    // How many members were added to a PSObject itself (Add-Member). PowerShell keeps no public, cheap way
    // to ask (Members.Match costs more than the serializer), so its own internal count is read; where
    // a PowerShell version lacks it, every PSObject takes the full serializer.
    private static readonly Func<PSObject, int>? InstanceMemberCount = CompileInstanceMemberCount();

    public static CliXmlCodec Instance { get; } = new();

    public string Format => "clixml";

    public string Serialize(object? value) => TrySerializePlain(value) ?? PSSerializer.Serialize(value, Depth);

    public object? Deserialize(string payload) => TryDeserializePlain(payload, out var value) ? value : PSSerializer.Deserialize(payload);

    /// <summary>Reads back what <see cref="TrySerializePlain"/> wrote (nothing else: PSSerializer's own output is indented).</summary>
    internal static bool TryDeserializePlain(string payload, out object? value)
    {
        value = null;
        if (!payload.StartsWith(Head, StringComparison.Ordinal) || !payload.EndsWith(Tail, StringComparison.Ordinal))
        {
            return false;
        }

        var inner = payload.AsSpan(Head.Length, payload.Length - Head.Length - Tail.Length);
        if (inner.SequenceEqual("<Nil />"))
        {
            return true;
        }

        var open = inner.IndexOf('>');
        if (open < 2 || inner[0] != '<')
        {
            return false;
        }

        var tag = inner[1..open];
        var close = $"</{tag}>";
        if (!inner.EndsWith(close, StringComparison.Ordinal))
        {
            return false;
        }

        var text = inner[(open + 1)..^close.Length];
        var culture = CultureInfo.InvariantCulture;
        switch (tag)
        {
            case "I32" when int.TryParse(text, NumberStyles.Integer, culture, out var i):
                value = i;
                return true;
            case "I64" when long.TryParse(text, NumberStyles.Integer, culture, out var l):
                value = l;
                return true;
            case "B" when text is "true" or "false":
                value = text is "true";
                return true;
            case "Db" when double.TryParse(text, NumberStyles.Float, culture, out var d):
                value = d;
                return true;
            case "G" when Guid.TryParse(text, out var g):
                value = g;
                return true;
            case "S" when Unescape(text) is { } s:
                value = s;
                return true;
            default:
                return false;
        }
    }

    /// <summary>The CliXml of a plain value, exactly as PSSerializer reads it back; null for anything else.</summary>
    internal static string? TrySerializePlain(object? value)
    {
        if (value is PSObject wrapped)
        {
            // A PSObject carrying members of its own (Add-Member, type names) keeps the full serializer.
            var inner = wrapped.BaseObject;
            if (InstanceMemberCount is null || inner is PSCustomObject || wrapped.TypeNames.Count == 0
                || !string.Equals(wrapped.TypeNames[0], inner.GetType().FullName, StringComparison.Ordinal) || InstanceMemberCount(wrapped) > 0)
            {
                return null;
            }

            value = inner;
        }

        return value switch
        {
            null => Head + "<Nil />" + Tail,
            int i => Element("I32", i.ToString(CultureInfo.InvariantCulture)),
            long l => Element("I64", l.ToString(CultureInfo.InvariantCulture)),
            bool b => Element("B", b ? "true" : "false"),
            double d when double.IsFinite(d) => Element("Db", d.ToString("R", CultureInfo.InvariantCulture)),
            Guid g => Element("G", g.ToString("D")),
            string s when IsPlainText(s) => Element("S", Escape(s)),
            _ => null,
        };
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

    private static string Element(string tag, string text) => string.Concat(Head, "<", tag, ">", text, "</", tag, ">", Tail);

    // PowerShell encodes control characters, lone surrogates and "_x" sequences its own way (_xHHHH_);
    // such strings take the full serializer.
    private static bool IsPlainText(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c < 0x20 || char.IsSurrogate(c) || c >= 0xFFFE || (c == '_' && i + 1 < s.Length && s[i + 1] is 'x' or 'X'))
            {
                return false;
            }
        }

        return true;
    }

    // Only the three entities Escape writes; anything else means the text came from elsewhere.
    private static string? Unescape(ReadOnlySpan<char> text)
    {
        if (text.IndexOfAny('&', '<') < 0)
        {
            return text.ToString();
        }

        var result = new StringBuilder(text.Length);
        while (!text.IsEmpty)
        {
            var at = text.IndexOfAny('&', '<');
            if (at < 0)
            {
                result.Append(text);
                break;
            }

            result.Append(text[..at]);
            text = text[at..];
            if (text.StartsWith("&amp;", StringComparison.Ordinal))
            {
                result.Append('&');
                text = text[5..];
            }
            else if (text.StartsWith("&lt;", StringComparison.Ordinal))
            {
                result.Append('<');
                text = text[4..];
            }
            else if (text.StartsWith("&gt;", StringComparison.Ordinal))
            {
                result.Append('>');
                text = text[4..];
            }
            else
            {
                return null;
            }
        }

        return result.ToString();
    }

    private static string Escape(string s)
    {
        if (s.AsSpan().IndexOfAny('&', '<', '>') < 0)
        {
            return s;
        }

        var text = new StringBuilder(s.Length + 16);
        foreach (var c in s)
        {
            text.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                _ => c.ToString(),
            });
        }

        return text.ToString();
    }
}
