using Microsoft.Data.Sqlite;

namespace BatchOps.Testing;

/// <summary>What a SQLite store file holds, for the size figures of both benchmark harnesses.</summary>
public static class SqliteFileSize
{
    /// <summary>The file's pages in use once its write-ahead log is folded in (free pages left out).</summary>
    public static long UsedBytes(string path)
    {
        SqliteConnection.ClearAllPools();
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        long Scalar(string sql)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }

        Scalar("PRAGMA wal_checkpoint(TRUNCATE)");
        return (Scalar("PRAGMA page_count") - Scalar("PRAGMA freelist_count")) * Scalar("PRAGMA page_size");
    }
}
