using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;
using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Store;

/// <summary>
/// A run of consecutive items kept as one record while they share a fate: all Pending (just recorded), or
/// all Succeeded in one chunk checkpoint. An item that needs a record of its own (a failure, a skip, a
/// retry) is first written out as an item row and leaves the block. Values are framed as UTF-8, not
/// escaped: <c>length:text</c> each (the length in bytes), <c>~</c> for null. Blocks are written from a
/// reused buffer and read straight from SQLite's memory, so a 10,000-item block makes no large objects;
/// the SQLite store packs longer ones (<see cref="BlockPacking"/>), and <see cref="Items"/> reads either form.
/// </summary>
internal static class ItemBlock
{
    /// <summary>Starts block outcomes whose timing is written once for all items.</summary>
    private const byte SharedTiming = (byte)'*';

    /// <summary>Frames the values one after another into <paramref name="buffer"/> (cleared first).</summary>
    public static void Encode(ArrayBufferWriter<byte> buffer, IEnumerable<string?> values)
    {
        buffer.ResetWrittenCount();
        foreach (var value in values)
        {
            Append(buffer, value);
        }
    }

    /// <summary>Keys into <paramref name="buffer"/>; false (nothing written) when no item has one, the common case.</summary>
    public static bool EncodeKeys(ArrayBufferWriter<byte> buffer, IReadOnlyList<StoredItem> items)
    {
        if (items.All(i => i.Key is null))
        {
            return false;
        }

        Encode(buffer, items.Select(i => i.Key));
        return true;
    }

    /// <summary>
    /// The per-item outcome of a succeeded block: attempts, started, ended, duration and output, five values
    /// per item. When the first four are the same for every item (the items of one bulk call), they are
    /// written once after a <c>*</c>, then the outputs alone.
    /// </summary>
    public static void EncodeOutcomes(ArrayBufferWriter<byte> buffer, IReadOnlyList<ItemOutcome> outcomes)
    {
        buffer.ResetWrittenCount();
        var shared = outcomes.Count > 1;
        for (var i = 1; shared && i < outcomes.Count; i++)
        {
            shared = SameTiming(outcomes[i], outcomes[0]);
        }

        if (shared)
        {
            buffer.GetSpan(1)[0] = SharedTiming;
            buffer.Advance(1);
            AppendTiming(buffer, outcomes[0]);
            foreach (var o in outcomes)
            {
                Append(buffer, o.Output);
            }

            return;
        }

        foreach (var o in outcomes)
        {
            AppendTiming(buffer, o);
            Append(buffer, o.Output);
        }
    }

    /// <summary>Reads <paramref name="count"/> items' outcomes (five values each) in either form <see cref="EncodeOutcomes"/> writes.</summary>
    public static string?[] DecodeOutcomes(ReadOnlySpan<byte> text, int count)
    {
        if (text.IsEmpty || text[0] != SharedTiming)
        {
            return Decode(text, count * 5);
        }

        var packed = Decode(text[1..], 4 + count);
        var values = new string?[count * 5];
        for (var i = 0; i < count; i++)
        {
            Array.Copy(packed, 0, values, i * 5, 4);
            values[(i * 5) + 4] = packed[4 + i];
        }

        return values;
    }

    private static bool SameTiming(ItemOutcome a, ItemOutcome b) =>
        a.Attempts == b.Attempts && a.StartedAt == b.StartedAt && a.EndedAt == b.EndedAt && a.Duration == b.Duration;

    private static void AppendTiming(ArrayBufferWriter<byte> buffer, ItemOutcome o)
    {
        AppendNumber(buffer, o.Attempts);
        if (o.StartedAt is { } started)
        {
            AppendNumber(buffer, SqliteJobStore.ToMs(started));
        }
        else
        {
            Append(buffer, null);
        }

        AppendNumber(buffer, SqliteJobStore.ToMs(o.EndedAt));
        AppendNumber(buffer, o.Duration.TotalMilliseconds);
    }

    /// <summary>Reads <paramref name="count"/> framed values.</summary>
    public static string?[] Decode(ReadOnlySpan<byte> text, int count)
    {
        var values = new string?[count];
        var at = 0;
        for (var i = 0; i < count; i++)
        {
            if (at >= text.Length)
            {
                throw Damaged(count);
            }

            if (text[at] == (byte)'~')
            {
                at++;
                continue;
            }

            if (!Utf8Parser.TryParse(text[at..], out int length, out var digits) || digits == 0 || at + digits >= text.Length || text[at + digits] != (byte)':')
            {
                throw Damaged(count);
            }

            var start = at + digits + 1;
            values[i] = Encoding.UTF8.GetString(text.Slice(start, length));
            at = start + length;
        }

        if (at != text.Length)
        {
            throw Damaged(count);
        }

        return values;
    }

    /// <summary>
    /// The items of a block row as stored items; <paramref name="keys"/> and <paramref name="outcomes"/> are
    /// empty when the row has none. <paramref name="fileInputs"/> are the inputs read from the job's items
    /// file, for a block that keeps only where they are; null to decode <paramref name="inputs"/>.
    /// </summary>
    public static List<StoredItem> Items(long first, long last, ItemStatus status, ReadOnlySpan<byte> keys, bool hasKeys, ReadOnlySpan<byte> inputs, string[]? fileInputs, ReadOnlySpan<byte> outcomes, bool hasOutcomes)
    {
        var count = checked((int)(last - first + 1));
        var keyValues = hasKeys ? DecodeStored(keys, count, Decode) : null;
        var inputValues = fileInputs ?? DecodeStored(inputs, count, Decode);
        var outcomeValues = hasOutcomes ? DecodeStored(outcomes, count, DecodeOutcomes) : null;
        var items = new List<StoredItem>(count);
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

            items.Add(item);
        }

        return items;
    }

    private delegate string?[] Decoder(ReadOnlySpan<byte> text, int count);

    /// <summary>Decodes a stored value, packed (<see cref="BlockPacking"/>) or plain.</summary>
    private static string?[] DecodeStored(ReadOnlySpan<byte> stored, int count, Decoder decode)
    {
        byte[]? rented = null;
        try
        {
            return decode(BlockPacking.Unpack(stored, ref rented), count);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static void Append(ArrayBufferWriter<byte> buffer, string? value)
    {
        if (value is null)
        {
            buffer.GetSpan(1)[0] = (byte)'~';
            buffer.Advance(1);
            return;
        }

        var length = Encoding.UTF8.GetByteCount(value);
        var span = buffer.GetSpan(length + 12);
        Utf8Formatter.TryFormat(length, span, out var digits);
        span[digits] = (byte)':';
        var written = Encoding.UTF8.GetBytes(value, span[(digits + 1)..]);
        buffer.Advance(digits + 1 + written);
    }

    /// <summary>A number framed like text ("13:1732350000000"), formatted straight into the buffer.</summary>
    private static void AppendNumber<T>(ArrayBufferWriter<byte> buffer, T value)
        where T : IUtf8SpanFormattable
    {
        Span<byte> digits = stackalloc byte[32];
        if (!value.TryFormat(digits, out var length, typeof(T) == typeof(double) ? "R" : default, CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException($"{value} does not fit a store number.");
        }

        var span = buffer.GetSpan(length + 12);
        Utf8Formatter.TryFormat(length, span, out var prefix);
        span[prefix] = (byte)':';
        digits[..length].CopyTo(span[(prefix + 1)..]);
        buffer.Advance(prefix + 1 + length);
    }

    private static StoreException Damaged(int count) =>
        new($"An item block does not hold the {count} values it should; the store may be damaged.");
}
