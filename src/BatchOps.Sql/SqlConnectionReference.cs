using Microsoft.Data.Sqlite;
using Npgsql;

namespace BatchOps.Sql;

/// <summary>
/// The connection of a sql operation as stored (<c>env:NAME</c> or a connection string without a
/// password) and as used (the environment variable read at run time).
/// </summary>
internal static class SqlConnectionReference
{
    private const string EnvPrefix = "env:";

    /// <summary>Checks the stored form; SQLite file paths become absolute (relative to <paramref name="baseFolder"/>).</summary>
    public static string Normalize(string? connection, string provider, string baseFolder, string where)
    {
        if (string.IsNullOrWhiteSpace(connection))
        {
            throw new SqlSpecException($"{where}: \"connection\" is required: a connection string, \"env:NAME\" (an environment variable holding it){(provider == SqlProviders.Sqlite ? " or a database file path" : string.Empty)}.");
        }

        if (connection.StartsWith(EnvPrefix, StringComparison.OrdinalIgnoreCase))
        {
            var name = connection[EnvPrefix.Length..];
            if (name.Length == 0 || name.Any(c => !(char.IsLetterOrDigit(c) || c == '_')))
            {
                throw new SqlSpecException($"{where}: \"connection\": \"{connection}\" is not a valid environment variable reference; write \"env:NAME\" with letters, digits and underscores.");
            }

            return EnvPrefix + name;
        }

        if (provider == SqlProviders.Sqlite && !connection.Contains('=', StringComparison.Ordinal))
        {
            return $"Data Source={Path.GetFullPath(Path.Combine(baseFolder, connection))}";
        }

        var hasPassword = Parse(connection, provider, where);
        if (hasPassword)
        {
            throw new SqlSpecException($"{where}: \"connection\" holds a password, and BatchOps never stores one. Put the connection string in an environment variable and write \"env:NAME\" (PostgreSQL also reads PGPASSWORD and ~/.pgpass).");
        }

        return connection;
    }

    /// <summary>The connection string to open: the stored one, or the environment variable it names.</summary>
    public static string Resolve(string stored, string provider, string where)
    {
        if (!stored.StartsWith(EnvPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return stored;
        }

        var name = stored[EnvPrefix.Length..];
        var value = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new SqlSpecException($"{where}: \"connection\" names the environment variable {name}, which is not set; set it to the connection string before running (or resuming) the job.");
        }

        if (provider == SqlProviders.Sqlite && !value.Contains('=', StringComparison.Ordinal))
        {
            return $"Data Source={Path.GetFullPath(value)}";
        }

        _ = Parse(value, provider, $"{where}: environment variable {name}");
        return value;
    }

    /// <summary>Parses a connection string; returns whether it carries a password.</summary>
    private static bool Parse(string connection, string provider, string where)
    {
        try
        {
            return provider == SqlProviders.PostgreSql
                ? !string.IsNullOrEmpty(new NpgsqlConnectionStringBuilder(connection).Password)
                : !string.IsNullOrEmpty(new SqliteConnectionStringBuilder(connection).Password);
        }
        catch (ArgumentException error)
        {
            throw new SqlSpecException($"{where}: \"connection\" is not a valid {provider} connection string: {error.Message}", error);
        }
    }
}
