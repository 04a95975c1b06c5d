using System.Text;

namespace BatchOps.Engine.Store;

/// <summary>
/// The JSON Lines file a job's items were recorded from, as it was then: a job keeps byte ranges of it
/// (<see cref="ItemRange"/>) instead of copies of its lines, so the file must stay where it is, unchanged,
/// for as long as those items are read (resume, show, export). Its size and last write time tell a changed
/// file from the original.
/// </summary>
public sealed record ItemsFileInfo(string Path, long Length, DateTimeOffset LastWriteUtc)
{
    /// <summary>The file as it is now.</summary>
    public static ItemsFileInfo Of(string path)
    {
        var info = new FileInfo(path);
        return new ItemsFileInfo(info.FullName, info.Length, new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero));
    }

    /// <summary>Throws a <see cref="StoreException"/> naming the problem and the fix when the file is gone or changed.</summary>
    public void EnsureUnchanged()
    {
        if (!File.Exists(Path))
        {
            throw new StoreException($"The items file '{Path}' is gone. The job keeps where its items are in that file, not copies of them: put the file back, unchanged, to read or run them.");
        }

        var now = Of(Path);
        if (now.Length != Length || now.LastWriteUtc != LastWriteUtc)
        {
            throw new StoreException(
                $"The items file '{Path}' changed after the job was created (then {Length} bytes, last written {LastWriteUtc:u}; now {now.Length} bytes, {now.LastWriteUtc:u}). " +
                "The job keeps where its items are in that file, not copies of them: restore the original file to read or run them, or create a new job from the new file.");
        }
    }

    /// <summary>The items (non-blank lines, as text) of a range, checked against the file.</summary>
    public string[] ReadRange(ItemRange range)
    {
        ArgumentNullException.ThrowIfNull(range);
        EnsureUnchanged();
        var lines = new string[range.Count];
        var found = 0;
        using (var reader = new Utf8LineReader(Path, range.Offset, range.Length))
        {
            while (reader.TryRead(out var line, out var offset))
            {
                var content = Utf8LineReader.Content(line.Span, offset);
                if (content.IsEmpty)
                {
                    continue;
                }

                if (found == lines.Length)
                {
                    throw Mismatch(range);
                }

                lines[found++] = Encoding.UTF8.GetString(content);
            }
        }

        return found == lines.Length ? lines : throw Mismatch(range);
    }

    private StoreException Mismatch(ItemRange range) =>
        new($"Bytes {range.Offset}-{range.Offset + range.Length - 1} of the items file '{Path}' no longer hold items {range.First}-{range.Last}; the file was changed in place. Restore the original file, or create a new job from the new one.");
}

/// <summary>Items <see cref="First"/> to <see cref="Last"/> of a job: the non-blank lines of a byte range of its items file, with their keys (null when none has one).</summary>
public sealed record ItemRange(long First, long Last, long Offset, long Length, IReadOnlyList<string?>? Keys = null)
{
    /// <summary>The number of items.</summary>
    public int Count => checked((int)(Last - First + 1));
}
