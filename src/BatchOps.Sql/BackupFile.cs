using System.Text;

namespace BatchOps.Sql;

/// <summary>
/// The JSON Lines file that receives each row an update, upsert or delete is about to change, written and
/// flushed to disk before the chunk's transaction commits. Each line is the row as the table held it, so
/// the file can be fed back to an upsert job to restore them.
/// </summary>
internal sealed class BackupFile : IDisposable
{
    private readonly object _gate = new();
    private readonly FileStream _stream;

    public BackupFile(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        _stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
    }

    public void Append(IReadOnlyList<string> rows)
    {
        if (rows.Count == 0)
        {
            return;
        }

        var text = new StringBuilder();
        foreach (var row in rows)
        {
            text.Append(row).Append('\n');
        }

        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        lock (_gate)
        {
            _stream.Write(bytes);
            _stream.Flush(flushToDisk: true);
        }
    }

    public void Dispose() => _stream.Dispose();
}
