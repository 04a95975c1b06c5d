using System.Buffers;
using System.Collections;
using System.Text;
using System.Text.Json;
using BatchOps.Engine.Store;

namespace BatchOps.Engine.Jobs;

/// <summary>
/// A JSON Lines file of items (one JSON value per line; blank lines are skipped), checked line by line in
/// bounded memory. A job created from it records where each chunk's items are in the file
/// (<see cref="Ranges"/>) instead of copying them, and its first run reads them straight from the file:
/// the items are parsed once for checking and once for running, and never written to the store. A resume
/// reads the ranges it still needs from the file, which must then be unchanged (see <see cref="ItemsFileInfo"/>).
/// </summary>
public sealed class ItemsFile : IReadOnlyCollection<JsonElement>
{
    private readonly List<ItemRange> _ranges;

    private ItemsFile(ItemsFileInfo source, long count, int rangeSize, List<ItemRange> ranges, List<string> firstItems)
    {
        Source = source;
        Count = count;
        RangeSize = rangeSize;
        _ranges = ranges;
        FirstItems = firstItems;
    }

    /// <summary>The file as it was checked.</summary>
    public ItemsFileInfo Source { get; }

    /// <summary>The number of items.</summary>
    public long Count { get; }

    /// <summary>Items per range (the last may hold fewer): the job's chunk size, so a chunk that succeeds whole is one record.</summary>
    public int RangeSize { get; }

    /// <summary>Where the items are, <see cref="RangeSize"/> at a time, in order.</summary>
    public IReadOnlyList<ItemRange> Ranges => _ranges;

    /// <summary>The first few items as text (for the job's log).</summary>
    public IReadOnlyList<string> FirstItems { get; }

    int IReadOnlyCollection<JsonElement>.Count => checked((int)Count);

    /// <summary>
    /// Reads the file once: parses every line, hands each item to <paramref name="check"/> with its index
    /// (the element is valid only during the call), takes its key, and notes the ranges. A line that is not JSON is an <see cref="InvalidDataException"/>
    /// naming the file and the line; a file that changes while it is read is one too.
    /// </summary>
    public static ItemsFile Scan(string path, int rangeSize, Action<JsonElement, long>? check = null, Func<JsonElement, string?>? keySelector = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(rangeSize, 1);
        var before = ItemsFileInfo.Of(Path.GetFullPath(path));
        var ranges = new List<ItemRange>();
        var firstItems = new List<string>();
        var keys = keySelector is null ? null : new List<string?>(rangeSize);
        var batch = new LineBatch(before.Path, check, keySelector, keys);
        long index = 0;
        long rangeFirst = 0;
        long rangeOffset = 0;
        using (var reader = new Utf8LineReader(before.Path))
        {
            while (reader.TryRead(out var line, out var offset))
            {
                var content = Utf8LineReader.Content(line.Span, offset);
                if (content.IsEmpty)
                {
                    continue;
                }

                cancellationToken.ThrowIfCancellationRequested();
                batch.Add(content, index, reader.LineCount);
                if (firstItems.Count < Logging.JobLog.DigestLength)
                {
                    firstItems.Add(Encoding.UTF8.GetString(content));
                }

                index++;
                if (index - rangeFirst == rangeSize)
                {
                    batch.Check();
                    ranges.Add(new ItemRange(rangeFirst, index - 1, rangeOffset, reader.Position - rangeOffset, Keys(keys)));
                    keys?.Clear();
                    rangeFirst = index;
                    rangeOffset = reader.Position;
                }
                else if (batch.Count == LineBatch.Size)
                {
                    batch.Check();
                }
            }

            batch.Check();
            if (index > rangeFirst)
            {
                ranges.Add(new ItemRange(rangeFirst, index - 1, rangeOffset, reader.Position - rangeOffset, Keys(keys)));
            }
        }

        if (ItemsFileInfo.Of(before.Path) != before)
        {
            throw new InvalidDataException($"The items file '{before.Path}' changed while it was being read. Let whatever writes it finish, then run again.");
        }

        return new ItemsFile(before, index, rangeSize, ranges, firstItems);
    }

    /// <summary>The items in order, read from the file (which must be unchanged) and decoded with <paramref name="codec"/>.</summary>
    public IEnumerable<BatchItem<TIn>> Read<TIn>(IPayloadCodec<TIn> codec) => Read(codec, null);

    /// <summary>
    /// The items for a run that frees each range's document once its items are checkpointed
    /// (<paramref name="documents"/>; see <see cref="RangeDocuments"/>): an item's value is then valid only
    /// until its chunk has completed.
    /// </summary>
    internal IEnumerable<BatchItem<TIn>> Read<TIn>(IPayloadCodec<TIn> codec, RangeDocuments? documents)
    {
        ArgumentNullException.ThrowIfNull(codec);
        return codec is JsonPayloadCodec ? (IEnumerable<BatchItem<TIn>>)ReadJson(documents) : ReadText(codec);
    }

    /// <summary>
    /// JSON items a range at a time: the range's lines are parsed as one JSON array, so its items share one
    /// document (two arrays) instead of three objects each, which keeps the collector's work per chunk flat.
    /// </summary>
    private IEnumerable<BatchItem<JsonElement>> ReadJson(RangeDocuments? documents)
    {
        Source.EnsureUnchanged();
        var buffer = new ArrayBufferWriter<byte>(1024 * 1024);
        using var reader = new Utf8LineReader(Source.Path);
        foreach (var range in _ranges)
        {
            buffer.ResetWrittenCount();
            Append(buffer, "["u8);
            var found = 0;
            while (found < range.Count && reader.TryRead(out var line, out var offset))
            {
                var content = Utf8LineReader.Content(line.Span, offset);
                if (!content.IsEmpty)
                {
                    Append(buffer, found++ == 0 ? default : ","u8);
                    Append(buffer, content);
                }
            }

            if (found < range.Count)
            {
                throw Changed(range.First + found);
            }

            Append(buffer, "]"u8);
            // Counted, not enumerated to the end: once its last item is handed out the range may run and be
            // freed before the reader is resumed, and stepping past that item would read its disposed document.
            var values = ParseRange(buffer.WrittenSpan, range, documents).EnumerateArray();
            for (var index = range.First; index <= range.Last; index++)
            {
                values.MoveNext();
                yield return new BatchItem<JsonElement>(index, values.Current, range.Keys?[(int)(index - range.First)]);
            }
        }
    }

    private IEnumerable<BatchItem<TIn>> ReadText<TIn>(IPayloadCodec<TIn> codec)
    {
        Source.EnsureUnchanged();
        using var reader = new Utf8LineReader(Source.Path);
        foreach (var range in _ranges)
        {
            for (var index = range.First; index <= range.Last; index++)
            {
                string text;
                do
                {
                    if (!reader.TryRead(out var line, out var offset))
                    {
                        throw Changed(index);
                    }

                    text = Encoding.UTF8.GetString(Utf8LineReader.Content(line.Span, offset));
                }
                while (text.Length == 0);

                yield return new BatchItem<TIn>(index, codec.Deserialize(text), range.Keys?[(int)(index - range.First)]);
            }
        }
    }

    /// <summary>
    /// A range's items as one JSON array, parsed in place over a copy of its text (JsonElement.ParseValue
    /// would first skip the whole value to find its end, then copy and parse it: about twice the work). For a
    /// run that frees ranges (<paramref name="documents"/>) the copy is pooled and the document handed over
    /// to be disposed once its items are done; otherwise the document is never disposed: its elements
    /// outlive this method and the collector takes it with them (its rented metadata included, which the
    /// shared pool then simply does not get back).
    /// </summary>
    private JsonElement ParseRange(ReadOnlySpan<byte> array, ItemRange range, RangeDocuments? documents)
    {
        var text = documents is null ? new byte[array.Length] : ArrayPool<byte>.Shared.Rent(array.Length);
        array.CopyTo(text);
        JsonDocument? document = null;
        try
        {
            document = JsonDocument.Parse(text.AsMemory(0, array.Length));
            if (document.RootElement.GetArrayLength() != range.Count)
            {
                throw Changed(range.First);
            }
        }
        catch (Exception error) when (error is JsonException or StoreException)
        {
            document?.Dispose();
            if (documents is not null)
            {
                ArrayPool<byte>.Shared.Return(text);
            }

            // Checked when the job was created: the file was changed in place since.
            throw error as StoreException ?? Changed(range.First);
        }

        documents?.Add(range, document, text);
        return document.RootElement;
    }

    private StoreException Changed(long index) =>
        new($"The items file '{Source.Path}' no longer holds item {index} as it did when the job was created; it was changed in place. Restore the original file, or create a new job from the new one.");

    private static void Append(ArrayBufferWriter<byte> buffer, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(buffer.GetSpan(bytes.Length));
        buffer.Advance(bytes.Length);
    }

    /// <summary>The items' values in order.</summary>
    public IEnumerator<JsonElement> GetEnumerator() => Read(JsonPayloadCodec.Instance).Select(item => item.Value).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();


    /// <summary>
    /// Lines being checked, parsed a batch at a time as one JSON array in a reused buffer (one document per
    /// batch, not per line); when the batch does not parse, its lines are parsed one by one to name the bad one.
    /// </summary>
    private sealed class LineBatch(string path, Action<JsonElement, long>? check, Func<JsonElement, string?>? keySelector, List<string?>? keys)
    {
        public const int Size = 1000;
        private readonly ArrayBufferWriter<byte> _buffer = new(256 * 1024);
        private readonly List<(int Start, int Length, long Index, long Line)> _lines = new(Size);

        public int Count => _lines.Count;

        public void Add(ReadOnlySpan<byte> content, long index, long line)
        {
            Append(_buffer, _lines.Count == 0 ? "["u8 : ","u8);
            _lines.Add((_buffer.WrittenCount, content.Length, index, line));
            Append(_buffer, content);
        }

        public void Check()
        {
            if (_lines.Count == 0)
            {
                return;
            }

            Append(_buffer, "]"u8);
            try
            {
                using var document = JsonDocument.Parse(_buffer.WrittenMemory);
                var at = 0;
                foreach (var item in document.RootElement.EnumerateArray())
                {
                    var index = at < _lines.Count ? _lines[at++].Index : throw new JsonException("a line holds more than one value");
                    check?.Invoke(item, index);
                    keys?.Add(keySelector!(item));
                }

                if (at != _lines.Count)
                {
                    throw new JsonException("a line holds more than one value");
                }
            }
            catch (JsonException error)
            {
                FindBadLine();
                throw new InvalidDataException($"{path}, lines {_lines[0].Line}-{_lines[^1].Line}: not one JSON value per line ({error.Message}). Each line of an items file holds one JSON value.", error);
            }
            finally
            {
                _buffer.ResetWrittenCount();
                _lines.Clear();
            }
        }

        private void FindBadLine()
        {
            foreach (var (start, length, _, line) in _lines)
            {
                try
                {
                    using var document = JsonDocument.Parse(_buffer.WrittenMemory.Slice(start, length));
                }
                catch (JsonException error)
                {
                    throw NotJson(path, line, error);
                }
            }
        }
    }

    private static InvalidDataException NotJson(string path, long line, JsonException error) =>
        new($"{path}, line {line}: not a JSON value ({error.Message}). Each line of an items file holds one JSON value.", error);

    private static string?[]? Keys(List<string?>? keys) => keys is null || keys.TrueForAll(k => k is null) ? null : keys.ToArray();
}
