using System.Globalization;
using System.Text;

namespace BatchOps.Engine.Jobs;

/// <summary>
/// PowerShell's CliXml (the format of Export-Clixml) as the store keeps it, and plain values read and
/// written without PowerShell. A stored payload is the compact form: the document's body without the
/// <c>&lt;Objs Version=… xmlns=…&gt;</c> wrapper every document repeats and without indentation
/// (<see cref="Compact"/>); <see cref="Expand"/> gives the whole document back, and payloads stored whole
/// before (older stores) read as they are. Numbers, strings, booleans, GUIDs and null are written and read
/// here directly (PSSerializer costs more per call than a trivial item), and exports show them as the value
/// they hold instead of XML.
/// </summary>
public static class CliXmlPlain
{
    /// <summary>The payload format name under which the module stores CliXml.</summary>
    public const string Format = "clixml";

    private const string Head = "<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">";
    private const string Tail = "</Objs>";

    /// <summary>
    /// The compact form of a CliXml document: its body without the standard wrapper and without the
    /// indentation PSSerializer writes. The serializer writes line breaks inside text and attribute values
    /// as escapes (<c>_x000A_</c>, <c>&amp;#xA;</c>), so every raw line break, and the spaces after it, is
    /// indentation. A document with another wrapper keeps it.
    /// </summary>
    public static string Compact(string cliXml)
    {
        ArgumentNullException.ThrowIfNull(cliXml);
        var body = cliXml.AsSpan().Trim();
        if (body.StartsWith(Head, StringComparison.Ordinal) && body.EndsWith(Tail, StringComparison.Ordinal))
        {
            body = body[Head.Length..^Tail.Length];
        }

        if (body.IndexOfAny('\r', '\n') < 0)
        {
            return body.Length == cliXml.Length ? cliXml : body.ToString();
        }

        var text = new StringBuilder(body.Length);
        while (!body.IsEmpty)
        {
            var brk = body.IndexOfAny('\r', '\n');
            if (brk < 0)
            {
                text.Append(body);
                break;
            }

            text.Append(body[..brk]);
            body = body[brk..].TrimStart("\r\n ");
        }

        return text.ToString();
    }

    /// <summary>The whole CliXml document of a stored payload, compact (<see cref="Compact"/>) or stored whole.</summary>
    public static string Expand(string payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        return payload.StartsWith("<Objs", StringComparison.Ordinal) ? payload : string.Concat(Head, payload, Tail);
    }

    /// <summary>The compact CliXml (<see cref="Compact"/>) of a plain value, not wrapped in anything; null for any other value.</summary>
    public static string? TryWrite(object? value) => value switch
    {
        null => "<Nil />",
        int i => Element("I32", i.ToString(CultureInfo.InvariantCulture)),
        long l => Element("I64", l.ToString(CultureInfo.InvariantCulture)),
        bool b => Element("B", b ? "true" : "false"),
        double d when double.IsFinite(d) => Element("Db", d.ToString("R", CultureInfo.InvariantCulture)),
        Guid g => Element("G", g.ToString("D")),
        string s when IsPlainText(s) => Element("S", Escape(s)),
        _ => null,
    };

    /// <summary>
    /// Reads back a plain value, compact (what <see cref="TryWrite"/> writes) or in a whole document (what
    /// older stores hold); false for anything else.
    /// </summary>
    public static bool TryRead(string payload, out object? value)
    {
        ArgumentNullException.ThrowIfNull(payload);
        value = null;
        var inner = payload.AsSpan();
        if (inner.StartsWith(Head, StringComparison.Ordinal) && inner.EndsWith(Tail, StringComparison.Ordinal))
        {
            inner = inner[Head.Length..^Tail.Length];
        }

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
            // PowerShell's own escapes (_xHHHH_, for "_x", line breaks and control characters) are left to
            // PSSerializer: TryWrite never writes them, so text holding one came from the full serializer.
            case "S" when !HasPowerShellEscape(text) && Unescape(text) is { } s:
                value = s;
                return true;
            default:
                return false;
        }
    }

    /// <summary>The text of a plain payload for people (exports): the value, or null when the payload is not plain.</summary>
    public static string? TryRender(string payload) => TryRead(payload, out var value)
        ? value switch
        {
            null => null,
            bool b => b ? "true" : "false",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString(),
        }
        : null;

    private static string Element(string tag, string text) => string.Concat("<", tag, ">", text, "</", tag, ">");

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

    private static bool HasPowerShellEscape(ReadOnlySpan<char> text) =>
        text.Contains("_x", StringComparison.Ordinal) || text.Contains("_X", StringComparison.Ordinal);

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
