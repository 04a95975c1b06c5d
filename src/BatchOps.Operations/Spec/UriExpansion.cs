using System.Text;

namespace BatchOps.Operations.Spec;

/// <summary>
/// The two RFC 6570 expansions a URL template uses. Simple expansion (<c>{x}</c>) is RFC 3986
/// percent-encoding of everything outside the unreserved set, which <see cref="Uri.EscapeDataString(string)"/>
/// does; reserved expansion (<c>{+x}</c>) also keeps the reserved characters and existing %XX triplets.
/// Only these two operators mean anything to our templates (one syntax across URLs, bodies, headers and
/// argv, with <c>{{</c> for a literal brace), so the encoding lives here rather than behind a level-4
/// template engine; the tests check both against the RFC's examples and against Std.UriTemplate.
/// </summary>
public static class UriExpansion
{
    private const string Reserved = ":/?#[]@!$&'()*+,;=";

    /// <summary><c>{x}</c>: every character but A–Z a–z 0–9 - . _ ~ as UTF-8 %XX.</summary>
    public static string Simple(string value) => Uri.EscapeDataString(value);

    /// <summary><c>{+x}</c>: unreserved and reserved characters and %XX triplets kept, the rest as UTF-8 %XX.</summary>
    public static string ReservedExpansion(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var result = new StringBuilder(value.Length);
        Span<byte> bytes = stackalloc byte[4];
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (IsUnreserved(c) || Reserved.Contains(c, StringComparison.Ordinal)
                || (c == '%' && i + 2 < value.Length && char.IsAsciiHexDigit(value[i + 1]) && char.IsAsciiHexDigit(value[i + 2])))
            {
                result.Append(c);
                continue;
            }

            // One scalar value at a time; a lone surrogate becomes U+FFFD, as EscapeDataString does.
            var rune = Rune.TryGetRuneAt(value, i, out var r) ? r : Rune.ReplacementChar;
            if (rune.IsBmp == false)
            {
                i++;
            }

            var length = rune.EncodeToUtf8(bytes);
            foreach (var b in bytes[..length])
            {
                result.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return result.ToString();
    }

    private static bool IsUnreserved(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~';
}
