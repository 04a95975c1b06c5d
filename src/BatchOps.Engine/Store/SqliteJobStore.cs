using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace BatchOps.Engine.Store;

/// <summary>
/// The embedded default store: one SQLite file in WAL mode with a busy timeout, so several processes
/// (two PowerShell sessions, a scheduled task, the batchops command) share it safely. The file is private
/// to its user (0600 on Unix). Opening validates the file before anything is written: a foreign or corrupt
/// file, or one from a newer schema, is left untouched and reported.
/// </summary>
public sealed partial class SqliteJobStore : IJobStore
{
    /// <summary>Schema version this build writes; older stores are migrated forward on open.</summary>
    public const int SchemaVersion = 11;

    /// <summary>The schema step that took the secrets older versions stored out of script-block definitions.</summary>
    private const int SecretsScrubbed = 6;

    /// <summary>SQLite application_id marking a BatchOps store ("BOPS").</summary>
    public const int ApplicationId = 0x424F5053;

    private const int BusyTimeoutMs = 30_000;
    private readonly string _connectionString;
    private readonly TimeProvider _time;

    private SqliteJobStore(string path, TimeProvider time)
    {
        Location = path;
        _time = time;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWrite,
            Pooling = true,
            DefaultTimeout = BusyTimeoutMs / 1000,
        }.ToString();
    }

    /// <inheritdoc/>
    public string Location { get; }

    /// <summary>Version of the native SQLite library in use.</summary>
    public static string NativeVersion
    {
        get
        {
            SqliteRuntime.EnsureInitialized();
            using var connection = new SqliteConnection("Data Source=:memory:");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT sqlite_version()";
            return (string)command.ExecuteScalar()!;
        }
    }

    /// <summary>
    /// Opens (creating when absent) the store in <paramref name="folder"/> (see <see cref="StoreLocation.ResolveFolder"/>).
    /// Throws <see cref="StoreException"/> with the reason and the fix when the folder or file cannot be used.
    /// </summary>
    public static SqliteJobStore Open(string? folder = null, TimeProvider? time = null)
    {
        SqliteRuntime.EnsureInitialized();
        var directory = StoreLocation.ResolveFolder(folder);
        var path = Path.Combine(directory, StoreLocation.DatabaseFileName);
        CreatePrivateFile(directory, path);
        var store = new SqliteJobStore(path, time ?? TimeProvider.System);
        store.Initialize();
        Jobs.JobCreation.RemoveAbandonedAsync(store, store._time).GetAwaiter().GetResult();
        return store;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        DisposeWriter();
        SqliteConnection.ClearPool(new SqliteConnection(_connectionString));
    }

    private static void CreatePrivateFile(string directory, string path)
    {
        try
        {
            if (!Directory.Exists(directory))
            {
                if (OperatingSystem.IsWindows())
                {
                    Directory.CreateDirectory(directory);
                }
                else
                {
                    Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }
            }

            if (File.Exists(path))
            {
                return;
            }

            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (new FileStream(path, options))
            {
            }
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created it first.
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new StoreException(
                $"Cannot create the job store at '{path}': {error.Message} Make the folder writable, or choose another folder with {StoreLocation.HomeVariable} (or --store).",
                error);
        }
    }

    private void Initialize()
    {
        using var connection = Connect();
        long applicationId;
        long version;
        long objects;
        try
        {
            // One snapshot: another process may be creating the same store, and its first migration must
            // not be seen half (tables there, application id not yet read).
            using var snapshot = connection.BeginTransaction(deferred: true);
            applicationId = Scalar(connection, "PRAGMA application_id", snapshot);
            version = Scalar(connection, "PRAGMA user_version", snapshot);
            objects = Scalar(connection, "SELECT count(*) FROM sqlite_master", snapshot);
        }
        catch (SqliteException error) when (error.SqliteErrorCode is SqliteErrors.NotADatabase or SqliteErrors.Corrupt)
        {
            throw new StoreException(
                $"'{Location}' is not a BatchOps job store ({error.Message.TrimEnd('.')}). It was left untouched: move it away, or choose another folder with {StoreLocation.HomeVariable} (or --store).",
                error);
        }
        catch (SqliteException error)
        {
            throw Translate(error);
        }

        if (applicationId != ApplicationId && objects > 0)
        {
            throw new StoreException(
                $"'{Location}' is a SQLite database of another application, not a BatchOps job store. It was left untouched: move it away, or choose another folder with {StoreLocation.HomeVariable} (or --store).");
        }

        if (version > SchemaVersion)
        {
            throw new StoreException(
                $"'{Location}' was written by a newer BatchOps (store schema {version}; this version reads up to {SchemaVersion}). It was left untouched: upgrade BatchOps, or choose another folder with {StoreLocation.HomeVariable} (or --store).");
        }

        Guard(() =>
        {
            if (version == 0 && objects == 0)
            {
                // A new file: free pages go back to the file system in steps (CompactAsync), never all at once.
                Execute(connection, "PRAGMA auto_vacuum=INCREMENTAL");
            }

            Execute(connection, "PRAGMA journal_mode=WAL");
            for (var next = (int)version + 1; next <= SchemaVersion; next++)
            {
                // Another process may be migrating the same file: take the write lock, then look again.
                using var transaction = connection.BeginTransaction();
                if (Scalar(connection, "PRAGMA user_version", transaction) >= next)
                {
                    continue;
                }

                Execute(connection, SqliteSchema.Migrations[next - 1], transaction);
                var scrubbed = next == SecretsScrubbed && ScrubSecrets(connection, transaction);
                Execute(connection, $"PRAGMA application_id={ApplicationId}", transaction);
                Execute(connection, $"PRAGMA user_version={next}", transaction);
                transaction.Commit();
                if (scrubbed)
                {
                    // The old pages are in the main file until a checkpoint writes the scrubbed ones over them.
                    Execute(connection, "PRAGMA wal_checkpoint(TRUNCATE)");
                    Execute(connection, "PRAGMA secure_delete=OFF");
                }
            }

            return 0;
        });
    }

    /// <summary>
    /// Rewrites every stored script-block definition that holds a secret (<see cref="Hosting.ScriptSecrets.ScrubJob"/>).
    /// SQLite keeps deleted text in free pages until they are reused, so the step ends with the free pages
    /// zeroed (secure_delete for these writes) and the WAL checkpointed and truncated.
    /// </summary>
    private static bool ScrubSecrets(SqliteConnection connection, SqliteTransaction transaction)
    {
        var changes = new List<(string Id, string? Operation, string? Undo, string? Stages)>();
        using (var read = connection.CreateCommand())
        {
            read.Transaction = transaction;
            read.CommandText = "SELECT id, operation_kind, operation, undo, stages FROM jobs";
            using var reader = read.ExecuteReader();
            while (reader.Read())
            {
                var (operation, undo, stages) = Hosting.ScriptSecrets.ScrubJob(reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4));
                if (operation is not null || undo is not null || stages is not null)
                {
                    changes.Add((reader.GetString(0), operation, undo, stages));
                }
            }
        }

        if (changes.Count == 0)
        {
            return false;
        }

        Execute(connection, "PRAGMA secure_delete=ON", transaction);
        foreach (var (id, operation, undo, stages) in changes)
        {
            using var write = connection.CreateCommand();
            write.Transaction = transaction;
            write.CommandText = "UPDATE jobs SET operation = coalesce($operation, operation), undo = coalesce($undo, undo), stages = coalesce($stages, stages) WHERE id = $id";
            write.Parameters.AddWithValue("$operation", (object?)operation ?? DBNull.Value);
            write.Parameters.AddWithValue("$undo", (object?)undo ?? DBNull.Value);
            write.Parameters.AddWithValue("$stages", (object?)stages ?? DBNull.Value);
            write.Parameters.AddWithValue("$id", id);
            write.ExecuteNonQuery();
        }

        return true;
    }

    /// <summary>Opens a pooled connection with the per-connection settings every operation needs (neither writes to the file).</summary>
    private SqliteConnection Connect()
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            Execute(connection, $"PRAGMA busy_timeout={BusyTimeoutMs}; PRAGMA synchronous=NORMAL;");
            return connection;
        }
        catch (SqliteException error)
        {
            connection.Dispose();
            throw Translate(error);
        }
    }

    /// <summary>Runs store work and turns SQLite's errors into messages that say what to do.</summary>
    private T Guard<T>(Func<T> work)
    {
        try
        {
            return work();
        }
        catch (SqliteException error)
        {
            throw Translate(error);
        }
    }

    private Exception Translate(SqliteException error) => error.SqliteErrorCode switch
    {
        SqliteErrors.ReadOnly or SqliteErrors.CantOpen or SqliteErrors.Permission => new StoreException(
            $"Cannot write to the job store '{Location}': {error.Message.TrimEnd('.')}. Make the file and its folder writable, or choose another folder with {StoreLocation.HomeVariable} (or --store).",
            error),
        SqliteErrors.Busy or SqliteErrors.Locked => new StoreException(
            $"The job store '{Location}' stayed locked by another process for {BusyTimeoutMs / 1000} s. Try again when it is less busy.",
            error),
        SqliteErrors.Full => new StoreException($"The disk holding the job store '{Location}' is full. Free space and resume the job.", error) { DiskFull = true },
        _ => new StoreException($"The job store '{Location}' failed: {error.Message}", error),
    };

    private static long Scalar(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        command.ExecuteNonQuery();
    }

    [Conditional("DEBUG")]
    private static void AssertJobId(string jobId) => Debug.Assert(!string.IsNullOrEmpty(jobId), "A job id is required.");
}
