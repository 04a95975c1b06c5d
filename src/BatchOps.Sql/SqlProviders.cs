using System.Data.Common;

namespace BatchOps.Sql;

/// <summary>The databases a sql operation writes to.</summary>
public static class SqlProviders
{
    /// <summary>PostgreSQL through Npgsql: binary COPY, one transaction per chunk.</summary>
    public const string PostgreSql = "postgresql";

    /// <summary>SQLite through Microsoft.Data.Sqlite: prepared statements, one transaction per chunk.</summary>
    public const string Sqlite = "sqlite";

    /// <summary>
    /// The provider a connection implies: a file path or <c>Data Source=</c> is SQLite; <c>Host=</c>,
    /// <c>Server=</c>, <c>Username=</c> and the like are PostgreSQL; <c>env:NAME</c> is judged by the
    /// variable's value. Null when it cannot tell (say which with the provider setting).
    /// </summary>
    public static string? Infer(string? connection)
    {
        if (string.IsNullOrWhiteSpace(connection))
        {
            return null;
        }

        if (connection.StartsWith("env:", StringComparison.OrdinalIgnoreCase))
        {
            return Infer(Environment.GetEnvironmentVariable(connection[4..]) is { } value && !value.StartsWith("env:", StringComparison.OrdinalIgnoreCase) ? value : null);
        }

        if (!connection.Contains('=', StringComparison.Ordinal))
        {
            return Sqlite;
        }

        var builder = new DbConnectionStringBuilder();
        try
        {
            builder.ConnectionString = connection;
        }
        catch (ArgumentException)
        {
            return null;
        }

        if (builder.ContainsKey("Data Source") || builder.ContainsKey("Filename") || builder.ContainsKey("DataSource"))
        {
            return Sqlite;
        }

        string[] postgres = ["Host", "Server", "Port", "Username", "User Id", "User Name", "Database", "Search Path"];
        return postgres.Any(builder.ContainsKey) ? PostgreSql : null;
    }
}
