using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace BatchOps.Engine.Store;

/// <summary>
/// A statement prepared once on an open connection and bound by position through SQLite's own API. The
/// item writes (one row per item, thousands per second) use it: Microsoft.Data.Sqlite looks every
/// parameter up by name on every execution, which cost more than the insert itself. Runs inside the
/// connection's transaction like any command on it; errors surface as <see cref="SqliteException"/>.
/// </summary>
internal sealed class RawStatement : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;

    public RawStatement(SqliteConnection connection, string sql)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        var rc = raw.sqlite3_prepare_v2(_db, sql, out _statement);
        SqliteException.ThrowExceptionForRC(rc, _db);
    }

    public void Bind(int position, string? value)
    {
        var rc = value is null ? raw.sqlite3_bind_null(_statement, position) : raw.sqlite3_bind_text(_statement, position, value);
        SqliteException.ThrowExceptionForRC(rc, _db);
    }

    public void Bind(int position, long value) => SqliteException.ThrowExceptionForRC(raw.sqlite3_bind_int64(_statement, position, value), _db);

    public void Bind(int position, long? value) => SqliteException.ThrowExceptionForRC(
        value is { } v ? raw.sqlite3_bind_int64(_statement, position, v) : raw.sqlite3_bind_null(_statement, position), _db);

    public void Bind(int position, double value) => SqliteException.ThrowExceptionForRC(raw.sqlite3_bind_double(_statement, position, value), _db);

    public void Bind(int position, double? value) => SqliteException.ThrowExceptionForRC(
        value is { } v ? raw.sqlite3_bind_double(_statement, position, v) : raw.sqlite3_bind_null(_statement, position), _db);

    /// <summary>Binds UTF-8 text; SQLite copies it, so the buffer may be reused at once.</summary>
    public void Bind(int position, ReadOnlySpan<byte> utf8) => SqliteException.ThrowExceptionForRC(raw.sqlite3_bind_text(_statement, position, utf8), _db);

    /// <summary>Binds bytes as a blob; SQLite copies them, so the buffer may be reused at once.</summary>
    public void BindBlob(int position, ReadOnlySpan<byte> bytes) => SqliteException.ThrowExceptionForRC(raw.sqlite3_bind_blob(_statement, position, bytes), _db);

    /// <summary>Moves to the next row of a query; false when there is none.</summary>
    public bool Step()
    {
        var rc = raw.sqlite3_step(_statement);
        if (rc == raw.SQLITE_ROW)
        {
            return true;
        }

        if (rc != raw.SQLITE_DONE)
        {
            SqliteException.ThrowExceptionForRC(rc, _db);
        }

        return false;
    }

    /// <summary>Column <paramref name="column"/> (0-based) of the current row as an integer.</summary>
    public long Int64(int column) => raw.sqlite3_column_int64(_statement, column);

    /// <summary>Whether column <paramref name="column"/> of the current row is NULL.</summary>
    public bool IsNull(int column) => raw.sqlite3_column_type(_statement, column) == raw.SQLITE_NULL;

    /// <summary>Column <paramref name="column"/> of the current row as bytes (UTF-8 for text), in SQLite's memory until the next step.</summary>
    public ReadOnlySpan<byte> Bytes(int column) => raw.sqlite3_column_blob(_statement, column);

    /// <summary>Runs the statement (one that returns no rows) and readies it for the next bindings.</summary>
    public void Execute()
    {
        var rc = raw.sqlite3_step(_statement);
        raw.sqlite3_reset(_statement);
        if (rc != raw.SQLITE_DONE)
        {
            SqliteException.ThrowExceptionForRC(rc, _db);
        }
    }

    public void Dispose() => _statement.Dispose();
}
