using System.Globalization;
using System.Text;
using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Store;

/// <summary>
/// A run of consecutive items kept as one record while they share a fate: all Pending (just recorded), or
/// all Succeeded in one chunk checkpoint. An item that needs a record of its own (a failure, a skip, a
/// retry) is first written out as an item row and leaves the block. Values are framed, not escaped:
/// <c>length:text</c> each, <c>~</c> for null, so a 10,000-item block costs one string copy.
/// </summary>
internal static class ItemBlock
{
    /// <summary>Frames the values one after another.</summary>
    public static string Encode(IEnumerable<string?> values)
    {
        var text = new StringBuilder();
        foreach (var value in values)
        {
            Append(text, value);
        }

        return text.ToString();
    }

    /// <summary>Keys: null when no item has one (the common case), so such blocks store nothing for them.</summary>
    public static string? EncodeKeys(IReadOnlyList<StoredItem> items) => items.All(i => i.Key is null) ? null : Encode(items.Select(i => i.Key));

    /// <summary>The per-item outcome of a succeeded block: attempts, started, ended, duration and output, five values per item.</summary>
    public static string EncodeOutcomes(IReadOnlyList<ItemOutcome> outcomes)
    {
        var text = new StringBuilder(outcomes.Count * 48);
        foreach (var o in outcomes)
        {
            Append(text, o.Attempts.ToString(CultureInfo.InvariantCulture));
            Append(text, o.StartedAt is { } started ? SqliteJobStore.ToMs(started).ToString(CultureInfo.InvariantCulture) : null);
            Append(text, SqliteJobStore.ToMs(o.EndedAt).ToString(CultureInfo.InvariantCulture));
            Append(text, o.Duration.TotalMilliseconds.ToString("R", CultureInfo.InvariantCulture));
            Append(text, o.Output);
        }

        return text.ToString();
    }

    /// <summary>Reads <paramref name="count"/> framed values.</summary>
    public static string?[] Decode(string text, int count)
    {
        var values = new string?[count];
        var at = 0;
        for (var i = 0; i < count; i++)
        {
            if (text[at] == '~')
            {
                at++;
                continue;
            }

            var colon = text.IndexOf(':', at);
            var length = int.Parse(text.AsSpan(at, colon - at), NumberStyles.None, CultureInfo.InvariantCulture);
            values[i] = text.Substring(colon + 1, length);
            at = colon + 1 + length;
        }

        if (at != text.Length)
        {
            throw new StoreException($"An item block holds more than its {count} values; the store may be damaged.");
        }

        return values;
    }

    /// <summary>The items of a block row as stored items.</summary>
    public static IEnumerable<StoredItem> Items(long first, long last, ItemStatus status, string? keys, string inputs, string? outcomes)
    {
        var count = checked((int)(last - first + 1));
        var keyValues = keys is null ? null : Decode(keys, count);
        var inputValues = Decode(inputs, count);
        var outcomeValues = outcomes is null ? null : Decode(outcomes, count * 5);
        for (var i = 0; i < count; i++)
        {
            var item = new StoredItem { Index = first + i, Key = keyValues?[i], Input = inputValues[i]!, Status = status };
            if (outcomeValues is not null)
            {
                var o = i * 5;
                item = item with
                {
                    Attempts = int.Parse(outcomeValues[o]!, CultureInfo.InvariantCulture),
                    StartedAt = outcomeValues[o + 1] is { } started ? SqliteJobStore.FromMs(long.Parse(started, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)) : null,
                    EndedAt = SqliteJobStore.FromMs(long.Parse(outcomeValues[o + 2]!, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)),
                    Duration = TimeSpan.FromMilliseconds(double.Parse(outcomeValues[o + 3]!, CultureInfo.InvariantCulture)),
                    Output = outcomeValues[o + 4],
                };
            }

            yield return item;
        }
    }

    private static void Append(StringBuilder text, string? value)
    {
        if (value is null)
        {
            text.Append('~');
            return;
        }

        text.Append(value.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(value);
    }
}
