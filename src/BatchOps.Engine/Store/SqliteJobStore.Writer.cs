using Microsoft.Data.Sqlite;

namespace BatchOps.Engine.Store;

public sealed partial class SqliteJobStore
{
    private readonly object _writeLock = new();
    private ItemWriter? _writer;

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
                _writer ??= new ItemWriter(Connect());
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

    /// <summary>The write connection and its prepared statements.</summary>
    private sealed class ItemWriter : IDisposable
    {
        public ItemWriter(SqliteConnection connection)
        {
            Connection = connection;
            Insert = Prepare(
                "INSERT INTO items (job_id, idx, key, input, status) VALUES ($job, $idx, $key, $input, $status) ON CONFLICT (job_id, idx) DO NOTHING",
                ("$job", SqliteType.Text), ("$idx", SqliteType.Integer), ("$key", SqliteType.Text), ("$input", SqliteType.Text), ("$status", SqliteType.Integer));
            Checkpoint = Prepare(
                "UPDATE items SET status = $status, attempts = $attempts, output = $output, error_type = $etype, error_message = $emessage, " +
                "error_detail = $edetail, error_retryable = $eretry, started_at = $started, ended_at = $ended, duration_ms = $duration " +
                "WHERE job_id = $job AND idx = $idx",
                ("$job", SqliteType.Text), ("$idx", SqliteType.Integer), ("$status", SqliteType.Integer), ("$attempts", SqliteType.Integer),
                ("$output", SqliteType.Text), ("$etype", SqliteType.Text), ("$emessage", SqliteType.Text), ("$edetail", SqliteType.Text),
                ("$eretry", SqliteType.Integer), ("$started", SqliteType.Integer), ("$ended", SqliteType.Integer), ("$duration", SqliteType.Real));
        }

        public SqliteConnection Connection { get; }

        public SqliteCommand Insert { get; }

        public SqliteCommand Checkpoint { get; }

        public void Dispose()
        {
            Insert.Dispose();
            Checkpoint.Dispose();
            Connection.Dispose();
        }

        private SqliteCommand Prepare(string sql, params (string Name, SqliteType Type)[] parameters)
        {
            var command = Connection.CreateCommand();
            command.CommandText = sql;
            foreach (var (name, type) in parameters)
            {
                command.Parameters.Add(name, type);
            }

            command.Prepare();
            return command;
        }
    }
}
