namespace BatchOps.Engine.Store;

/// <summary>
/// Reads a file (or a byte range of it) line by line as UTF-8 bytes, with the offset of each line, through
/// one reused buffer. A line is returned without its newline; a final line without one is returned too.
/// </summary>
internal sealed class Utf8LineReader : IDisposable
{
    private readonly FileStream _file;
    private readonly long _end;
    private byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _count;
    private long _position;
    private bool _exhausted;

    public Utf8LineReader(string path, long offset = 0, long length = long.MaxValue)
    {
        // Buffer size 1: this class is the buffer.
        _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
        _file.Position = offset;
        _position = offset;
        _end = length == long.MaxValue ? long.MaxValue : offset + length;
    }

    /// <summary>Lines returned so far (blank ones included).</summary>
    public long LineCount { get; private set; }

    /// <summary>The offset just past the last line returned and its newline.</summary>
    public long Position => _position;

    /// <summary>The next line, valid until the next call; false at the end of the range.</summary>
    public bool TryRead(out ReadOnlyMemory<byte> line, out long offset)
    {
        while (true)
        {
            offset = _position;
            var newline = _buffer.AsSpan(_start, _count).IndexOf((byte)'\n');
            if (newline >= 0 || (_exhausted && _count > 0))
            {
                var length = newline >= 0 ? newline : _count;
                line = _buffer.AsMemory(_start, length);
                Consume(newline >= 0 ? length + 1 : length);
                LineCount++;
                return true;
            }

            if (_exhausted)
            {
                line = default;
                return false;
            }

            Fill();
        }
    }

    public void Dispose() => _file.Dispose();

    /// <summary>A line without its carriage return and byte order mark; empty when it holds only white space.</summary>
    public static ReadOnlySpan<byte> Content(ReadOnlySpan<byte> line, long offset)
    {
        if (offset == 0 && line.StartsWith("\uFEFF"u8))
        {
            line = line[3..];
        }

        return line.Trim(" \t\r"u8);
    }

    private void Consume(int length)
    {
        _start += length;
        _count -= length;
        _position += length;
    }

    private void Fill()
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _count);
            _start = 0;
        }

        if (_count == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        var wanted = (int)Math.Min(_buffer.Length - _count, _end - (_position + _count));
        var read = wanted > 0 ? _file.Read(_buffer, _count, wanted) : 0;
        if (read == 0)
        {
            _exhausted = true;
        }

        _count += read;
    }
}
