using BatchOps.Engine.Store;
using Npgsql;

namespace BatchOps.Postgres;

/// <summary>
/// The shared job store: every table in the schema <c>batchops</c> of a PostgreSQL database, so admins on
/// several hosts, schedulers, workers and the dashboard see one history. Same contract as the SQLite
/// store; it also queues jobs for workers (<see cref="Engine.Workers.IWorkQueue"/>). Opening checks the
/// schema before writing anything (another application's, or a newer BatchOps's, is left untouched), then
/// migrates forward under an advisory lock, so processes opening a new store at once take turns.
/// </summary>
public sealed partial class PostgresJobStore : IJobStore
{
    /// <summary>Schema version this build writes; older stores are migrated forward on open.</summary>
    public const int SchemaVersion = 12;

    /// <summary>The schema step that took the secrets older versions stored out of script-block definitions.</summary>
    private const int SecretsScrubbed = 7;

    /// <summary>The advisory lock that serializes schema creation and migrations across processes ("BOPS").</summary>
    internal const long MigrationLock = 0x424F5053;

    private readonly NpgsqlDataSource _source;
    private readonly TimeProvider _time;

    private PostgresJobStore(NpgsqlDataSource source, string location, TimeProvider time)
    {
        _source = source;
        Location = location;
        _time = time;
    }

    /// <inheritdoc/>
    public string Location { get; }

    /// <summary>
    /// Opens the store in the database <paramref name="connectionString"/> names (creating its schema when
    /// absent). Throws <see cref="StoreException"/> with the reason and the fix when it cannot be used.
    /// </summary>
    public static PostgresJobStore Open(string connectionString, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (string.IsNullOrEmpty(builder.ApplicationName))
        {
            builder.ApplicationName = "batchops";
        }

        // The store runs the same few statements over and over (claims, checkpoints, pages): prepared on
        // each pooled connection after their second use, the server parses and plans them once. Item
        // reads write their statuses into the statement, so a generic plan still knows a rare status.
        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = 64;
            builder.AutoPrepareMinUsages = 2;
        }

        // The store changes no session state (its advisory locks are transaction locks), so a connection
        // back in the pool needs no reset: three statements fewer each time one is taken.
        builder.NoResetOnClose = true;

        var location = StoreReference.Describe(builder);
        var source = new NpgsqlDataSourceBuilder(builder.ConnectionString).Build();
        var store = new PostgresJobStore(source, location, time ?? TimeProvider.System);
        try
        {
            store.Initialize();
            Engine.Jobs.JobCreation.RemoveAbandonedAsync(store, store._time).GetAwaiter().GetResult();
            return store;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _source.Dispose();

    private void Initialize() => Guard(() =>
    {
        using var connection = _source.OpenConnection();
        var version = ReadVersion(connection, transaction: null);
        if (version > SchemaVersion)
        {
            throw new StoreException(
                $"The job store {Location} was written by a newer BatchOps (store schema {version}; this version reads up to {SchemaVersion}). It was left untouched: upgrade BatchOps, or use another database.");
        }

        if (version == SchemaVersion)
        {
            return 0;
        }

        using var transaction = connection.BeginTransaction();
        Execute(connection, transaction, $"SELECT pg_advisory_xact_lock({MigrationLock})");

        // Another process may have migrated while we waited for the lock: look again.
        version = ReadVersion(connection, transaction);
        if (version == 0)
        {
            Execute(connection, transaction,
                "CREATE SCHEMA IF NOT EXISTS batchops; CREATE TABLE batchops.meta (key text PRIMARY KEY, value text NOT NULL); " +
                "INSERT INTO batchops.meta VALUES ('application', 'batchops'), ('schema_version', '0')");
        }

        for (var next = version + 1; next <= SchemaVersion; next++)
        {
            Execute(connection, transaction, PostgresSchema.Migrations[next - 1]);
            if (next == SecretsScrubbed)
            {
                ScrubSecrets(connection, transaction);
            }

            Execute(connection, transaction, $"UPDATE batchops.meta SET value = '{next}' WHERE key = 'schema_version'");
        }

        transaction.Commit();
        return 0;
    });

    /// <summary>
    /// Rewrites every stored script-block definition that holds a secret (<see cref="Engine.Hosting.ScriptSecrets.ScrubJob"/>).
    /// The old row versions are dead tuples until VACUUM reclaims them; docs/security.md says to run
    /// VACUUM FULL batchops.jobs after upgrading a store that held credentials.
    /// </summary>
    private static void ScrubSecrets(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        var changes = new List<(string Id, string? Operation, string? Undo, string? Stages)>();
        using (var read = new NpgsqlCommand("SELECT id, operation_kind, operation, undo, stages FROM batchops.jobs", connection, transaction))
        using (var reader = read.ExecuteReader())
        {
            while (reader.Read())
            {
                var (operation, undo, stages) = Engine.Hosting.ScriptSecrets.ScrubJob(reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4));
                if (operation is not null || undo is not null || stages is not null)
                {
                    changes.Add((reader.GetString(0), operation, undo, stages));
                }
            }
        }

        foreach (var (id, operation, undo, stages) in changes)
        {
            using var write = new NpgsqlCommand("UPDATE batchops.jobs SET operation = coalesce($1, operation), undo = coalesce($2, undo), stages = coalesce($3, stages) WHERE id = $4", connection, transaction);
            write.Parameters.Add(new() { Value = (object?)operation ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            write.Parameters.Add(new() { Value = (object?)undo ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            write.Parameters.Add(new() { Value = (object?)stages ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            write.Parameters.Add(new() { Value = id });
            write.ExecuteNonQuery();
        }
    }

    /// <summary>The stored schema version; 0 for a database without the store. Throws for a foreign <c>batchops</c> schema.</summary>
    private int ReadVersion(NpgsqlConnection connection, NpgsqlTransaction? transaction)
    {
        // Both from the catalogs' rows in one snapshot. to_regclass answered from the server's cached catalog
        // state, which could predate the statement's snapshot: a store created by another process between
        // this statement's parse and its execution showed its schema but not its meta table, and read as foreign.
        using var command = new NpgsqlCommand(
            "SELECT (SELECT count(*) FROM pg_namespace WHERE nspname = 'batchops'), " +
            "EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'batchops' AND c.relname = 'meta')",
            connection, transaction);
        bool hasMeta;
        long schemas;
        using (var reader = command.ExecuteReader())
        {
            reader.Read();
            schemas = reader.GetInt64(0);
            hasMeta = reader.GetBoolean(1);
        }

        if (!hasMeta)
        {
            if (schemas > 0 && HasTables(connection, transaction))
            {
                throw new StoreException(
                    $"The database of {Location} has a schema 'batchops' that is not a BatchOps job store. It was left untouched: use another database, or move that schema away.");
            }

            return 0;
        }

        using var read = new NpgsqlCommand("SELECT key, value FROM batchops.meta WHERE key IN ('application', 'schema_version')", connection, transaction);
        using var r = read.ExecuteReader();
        string? application = null;
        var version = 0;
        while (r.Read())
        {
            if (r.GetString(0) == "application")
            {
                application = r.GetString(1);
            }
            else
            {
                version = int.Parse(r.GetString(1), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        if (application != "batchops")
        {
            throw new StoreException($"The schema 'batchops' in the database of {Location} belongs to another application. It was left untouched: use another database.");
        }

        return version;
    }

    private static bool HasTables(NpgsqlConnection connection, NpgsqlTransaction? transaction)
    {
        using var command = new NpgsqlCommand("SELECT count(*) FROM pg_tables WHERE schemaname = 'batchops'", connection, transaction);
        return (long)command.ExecuteScalar()! > 0;
    }

    /// <summary>Runs store work and turns PostgreSQL's errors into messages that say what to do.</summary>
    private T Guard<T>(Func<T> work)
    {
        try
        {
            return work();
        }
        catch (NpgsqlException error)
        {
            throw Translate(error);
        }
    }

    private async Task<T> GuardAsync<T>(Func<Task<T>> work)
    {
        try
        {
            return await work().ConfigureAwait(false);
        }
        catch (NpgsqlException error)
        {
            throw Translate(error);
        }
    }

    private StoreException Translate(NpgsqlException error) => error switch
    {
        PostgresException { SqlState: "28P01" or "28000" } => new StoreException(
            $"The job store {Location} refused the login: {error.Message}. Check the user, and give the password through PGPASSWORD, ~/.pgpass or a connection string in an environment variable (env:NAME).", error),
        PostgresException { SqlState: "3D000" } => new StoreException($"The database of the job store {Location} does not exist: {error.Message}. Create it (createdb), or name another.", error),
        PostgresException { SqlState: "42501" } => new StoreException($"The job store {Location} refused access: {error.Message}. Grant the user rights on the schema batchops (or on the database to create it).", error),
        PostgresException postgres => new StoreException($"The job store {Location} failed: {postgres.MessageText} ({postgres.SqlState}).", error),
        _ => new StoreException($"Cannot reach the job store {Location}: {error.Message}. Check that the server runs and the connection string (host, port, database) is right.", error),
    };

    /// <summary>Runs statements in one round trip, each given all of <paramref name="args"/> as $1, $2….</summary>
    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, object[] args, CancellationToken cancellationToken, params string[] statements)
    {
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var statement in statements)
        {
            var command = new NpgsqlBatchCommand(statement);
            foreach (var arg in args)
            {
                command.Parameters.Add(arg is NpgsqlParameter parameter ? parameter.Clone() : new NpgsqlParameter { Value = arg });
            }

            batch.BatchCommands.Add(command);
        }

        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static void Execute(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection, transaction);
        command.ExecuteNonQuery();
    }

    internal static DateTimeOffset? Time(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : new DateTimeOffset(reader.GetDateTime(ordinal), TimeSpan.Zero);

    internal static object Db(DateTimeOffset? value) => value is { } v ? v.ToUniversalTime() : DBNull.Value;

    internal static object Db(string? value) => (object?)value ?? DBNull.Value;

    internal static long ToMs(DateTimeOffset value) => value == DateTimeOffset.MinValue ? long.MinValue : value.ToUnixTimeMilliseconds();

    internal static DateTimeOffset FromMs(long value) => value == long.MinValue ? DateTimeOffset.MinValue : DateTimeOffset.FromUnixTimeMilliseconds(value);
}
