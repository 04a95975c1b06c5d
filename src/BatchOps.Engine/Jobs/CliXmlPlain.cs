using System.Globalization;
using System.Text;

namespace BatchOps.Engine.Jobs;

/// <summary>
/// PowerShell's CliXml (the format of Export-Clixml) for plain values only: numbers, strings, booleans,
/// GUIDs and null, written on one line and read back without PowerShell. The module writes inputs and
/// outputs this way (PSSerializer costs more per call than a trivial item), PowerShell reads it like any
/// CliXml, and exports show such payloads as the value they hold instead of XML.
/// </summary>
public static class CliXmlPlain
{
    /// <summary>The payload format name under which the module stores CliXml.</summary>
    public const string Format = "clixml";

    private const string Head = "<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">";
    private const string Tail = "</Objs>";

    /// <summary>The CliXml of a plain value (not wrapped in anything); null for any other value.</summary>
    public static string? TryWrite(object? value) => value switch
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

    /// <summary>Reads back what <see cref="TryWrite"/> wrote; false for anything else (PSSerializer's own output is indented).</summary>
    public static bool TryRead(string payload, out object? value)
    {
        ArgumentNullException.ThrowIfNull(payload);
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
