using Microsoft.Data.Sqlite;

namespace BatchOps.Engine.Store;

public sealed partial class SqliteJobStore
{
    private readonly object _writeLock = new();
    private ItemWriter? _writer;

    /// <summary>Whether item blocks are packed (<see cref="BlockPacking"/>); off only to measure what packing costs.</summary>
    internal bool PackBlocks { get; set; } = true;

    /// <summary>
    /// Runs item writes (AddItems, checkpoints: the hot paths, one transaction per chunk) on one long-lived
    /// connection with its statements prepared once, one writer at a time in this process. Other processes
    /// still share the file through SQLite's locking and the busy timeout.
    /// </summary>
    private T Write<T>(Func<ItemWriter, T> work)
    {
        lock (_writeLock)
        {
            try
            {
                _writer ??= new ItemWriter(Connect()) { Pack = PackBlocks };
                return work(_writer);
            }
            catch (SqliteException error)
            {
                // A failed connection is not reused: the next write opens a fresh one.
                _writer?.Dispose();
                _writer = null;
                throw Translate(error);
            }
        }
    }

    private void DisposeWriter()
    {
        lock (_writeLock)
        {
            _writer?.Dispose();
            _writer = null;
        }
    }

    /// <summary>The write connection and its prepared statements (parameters by position).</summary>
    private sealed class ItemWriter : IDisposable
    {
        public ItemWriter(SqliteConnection connection)
        {
            Connection = connection;
            Insert = new RawStatement(connection,
                "INSERT INTO items (job_id, idx, key, input, status, attempts, output, started_at, ended_at, duration_ms) " +
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (job_id, idx) DO NOTHING");
            Checkpoint = new RawStatement(connection,
                "UPDATE items SET status = ?3, attempts = ?4, output = ?5, error_type = ?6, error_message = ?7, error_detail = ?8, " +
                "error_retryable = ?9, started_at = ?10, ended_at = ?11, duration_ms = ?12 WHERE job_id = ?1 AND idx = ?2");
            InsertBlock = new RawStatement(connection,
                "INSERT INTO item_blocks (job_id, first_idx, last_idx, status, keys, inputs) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
            InsertRange = new RawStatement(connection,
                "INSERT INTO item_blocks (job_id, first_idx, last_idx, status, keys, inputs, source_offset, source_length) VALUES (?1, ?2, ?3, ?4, ?5, '', ?6, ?7)");
            SucceedBlock = new RawStatement(connection,
                "UPDATE item_blocks SET status = ?3, outcomes = ?4 WHERE job_id = ?1 AND first_idx = ?2");
            DeleteBlock = new RawStatement(connection, "DELETE FROM item_blocks WHERE job_id = ?1 AND first_idx = ?2");
            StageTimes = new RawStatement(connection,
                "UPDATE job_stages SET started_at = min(coalesce(started_at, ?4), ?4), ended_at = max(coalesce(ended_at, ?5), ?5) " +
                "WHERE job_id = ?1 AND first_idx <= ?3 AND last_idx >= ?2");
        }

        public SqliteConnection Connection { get; }

        /// <summary>Reused for block text (inputs, keys, outcomes), so large blocks make no garbage.</summary>
        public System.Buffers.ArrayBufferWriter<byte> Buffer { get; } = new(64 * 1024);

        /// <summary>Reused for block values packed (<see cref="BlockPacking"/>).</summary>
        private System.Buffers.ArrayBufferWriter<byte> Packed { get; } = new(16 * 1024);

        /// <summary>Whether blocks are packed (<see cref="PackBlocks"/>).</summary>
        public bool Pack { get; init; } = true;

        /// <summary>Binds the block text in <see cref="Buffer"/> as stored: packed (a blob) where it pays, else as text.</summary>
        public void BindBlock(RawStatement statement, int position)
        {
            var stored = Pack ? BlockPacking.Pack(Buffer.WrittenSpan, Packed) : Buffer.WrittenSpan;
            if (BlockPacking.IsPacked(stored))
            {
                statement.BindBlob(position, stored);
            }
            else
            {
                statement.Bind(position, stored);
            }
        }

        /// <summary>?1 job, ?2 index, ?3 key, ?4 input, ?5 status, ?6 attempts, ?7 output, ?8 started, ?9 ended, ?10 duration (ms); an existing row is kept.</summary>
        public RawStatement Insert { get; }

        /// <summary>?1 job, ?2 index, ?3 status, ?4 attempts, ?5 output, ?6–?9 error type, message, detail, retryable, ?10 started, ?11 ended, ?12 duration (ms).</summary>
        public RawStatement Checkpoint { get; }

        /// <summary>?1 job, ?2 first index, ?3 last index, ?4 status, ?5 keys, ?6 inputs (framed, see <see cref="ItemBlock"/>).</summary>
        public RawStatement InsertBlock { get; }

        /// <summary>?1 job, ?2 first index, ?3 last index, ?4 status, ?5 keys, ?6 offset and ?7 length of the items in the job's items file.</summary>
        public RawStatement InsertRange { get; }

        /// <summary>?1 job, ?2 first index, ?3 status, ?4 outcomes (framed).</summary>
        public RawStatement SucceedBlock { get; }

        /// <summary>?1 job, ?2 first index.</summary>
        public RawStatement DeleteBlock { get; }

        /// <summary>?1 job, ?2 lowest and ?3 highest index checkpointed, ?4 their first start and ?5 last end (ms): widens the stages' times.</summary>
        public RawStatement StageTimes { get; }

        public void Dispose()
        {
            Insert.Dispose();
            Checkpoint.Dispose();
            InsertBlock.Dispose();
            InsertRange.Dispose();
            SucceedBlock.Dispose();
            DeleteBlock.Dispose();
            StageTimes.Dispose();
            Connection.Dispose();
        }
    }
}
