using System.Globalization;
using System.Text;

namespace BatchOps.Operations;

/// <summary>
/// Text from items (outputs, errors, keys, rendered requests) made safe to print on a terminal: control
/// characters (C0 but tab, DEL, C1) and the bidirectional overrides that reorder what a reader sees are shown
/// as escapes (\e, \r, \x07, \u202E) instead of acting. An item's output once cleared the screen and
/// retitled the terminal through <c>batchops show</c>; JSON output (--json) is escaped by the JSON writer.
/// </summary>
public static class TerminalText
{
    /// <summary>The text with every character that would act on a terminal written as a visible escape; the same string when there is none.</summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? string.Empty;
        }

        var first = text.AsSpan().IndexOfAnyExcept(Printable);
        if (first < 0)
        {
            return text;
        }

        var result = new StringBuilder(text.Length + 8).Append(text, 0, first);
        foreach (var c in text.AsSpan(first))
        {
            if (!ActsOnTerminal(c))
            {
                result.Append(c);
                continue;
            }

            result.Append(c switch
            {
                '\x1b' => "\\e",
                '\r' => "\\r",
                '\n' => "\\n",
                '\0' => "\\0",
                < '\x100' => "\\x" + ((int)c).ToString("X2", CultureInfo.InvariantCulture),
                _ => "\\u" + ((int)c).ToString("X4", CultureInfo.InvariantCulture),
            });
        }

        return result.ToString();
    }

    private static bool ActsOnTerminal(char c) =>
        (c < ' ' && c != '\t') || c is >= '\x7f' and <= '\x9f' || c is >= '\u202a' and <= '\u202e' || c is >= '\u2066' and <= '\u2069';

    private static readonly System.Buffers.SearchValues<char> Printable = System.Buffers.SearchValues.Create(
        [.. Enumerable.Range(0, 0x10000).Select(i => (char)i).Where(c => !ActsOnTerminal(c))]);
}
