using BatchOps.Engine.Store;
using Npgsql;

namespace BatchOps.Postgres;

/// <summary>
/// What names a job store: a folder (the SQLite store) or a PostgreSQL database, given as a
/// <c>postgresql://</c> URI, a connection string (<c>Host=…;Database=…</c>), or <c>env:NAME</c> naming an
/// environment variable that holds either. A password is taken only from the environment (an env:NAME
/// value, PGPASSWORD or ~/.pgpass), never from a command line, and never shown.
/// </summary>
public static class StoreReference
{
    /// <summary>Environment variable naming the store when no --store / -Store is given.</summary>
    public const string StoreVariable = "BATCHOPS_STORE";

    private const string EnvPrefix = "env:";

    private static readonly Dictionary<string, string> UriParameters = new(StringComparer.OrdinalIgnoreCase)
    {
        ["host"] = "Host",
        ["port"] = "Port",
        ["user"] = "Username",
        ["dbname"] = "Database",
        ["sslmode"] = "SSL Mode",
        ["application_name"] = "Application Name",
        ["connect_timeout"] = "Timeout",
        ["options"] = "Options",
        ["target_session_attrs"] = "Target Session Attributes",
    };

    /// <summary>The reference to use: <paramref name="given"/>, else $BATCHOPS_STORE, else null (the default SQLite folder).</summary>
    public static string? Effective(string? given) =>
        !string.IsNullOrWhiteSpace(given) ? given : Environment.GetEnvironmentVariable(StoreVariable) is { Length: > 0 } fromEnv ? fromEnv : null;

    /// <summary>Whether <paramref name="reference"/> names a PostgreSQL database rather than a folder.</summary>
    public static bool IsPostgres(string? reference) =>
        reference is not null && (reference.StartsWith(EnvPrefix, StringComparison.OrdinalIgnoreCase) || IsUri(reference) || LooksLikeConnectionString(reference));

    /// <summary>
    /// The Npgsql connection string of a PostgreSQL reference. Throws <see cref="StoreException"/> naming the
    /// problem and the fix: a variable that is not set, a malformed URI, a password outside the environment.
    /// </summary>
    public static string ToConnectionString(string reference)
    {
        ArgumentException.ThrowIfNullOrEmpty(reference);
        var fromEnvironment = reference.StartsWith(EnvPrefix, StringComparison.OrdinalIgnoreCase);
        var text = reference;
        if (fromEnvironment)
        {
            var name = reference[EnvPrefix.Length..];
            if (name.Length == 0 || name.Any(c => !(char.IsLetterOrDigit(c) || c == '_')))
            {
                throw new StoreException($"The store \"{reference}\" is not a valid environment variable reference; write env:NAME with letters, digits and underscores.");
            }

            text = Environment.GetEnvironmentVariable(name);
            if (string.IsNullOrWhiteSpace(text))
            {
                throw new StoreException($"The store names the environment variable {name}, which is not set; set it to a postgresql:// URI or connection string.");
            }
        }

        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = IsUri(text) ? FromUri(text) : new NpgsqlConnectionStringBuilder(text);
        }
        catch (ArgumentException error)
        {
            throw new StoreException($"The store's PostgreSQL connection string is not valid: {error.Message} Write postgresql://user@host:port/database or Host=…;Database=….", error);
        }

        if (!fromEnvironment && !string.IsNullOrEmpty(builder.Password))
        {
            throw new StoreException(
                "The store's connection string holds a password, and BatchOps takes none from a command line (it would be seen in the process list and shell history). " +
                "Put the connection string in an environment variable and pass env:NAME, or give the password through PGPASSWORD or ~/.pgpass.");
        }

        return builder.ConnectionString;
    }

    /// <summary>The store as shown to people: postgresql://user@host:port/database, never the password.</summary>
    public static string Describe(NpgsqlConnectionStringBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var user = string.IsNullOrEmpty(builder.Username) ? string.Empty : builder.Username + "@";
        var port = builder.Port == NpgsqlConnection.DefaultPort ? string.Empty : ":" + builder.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return $"postgresql://{user}{builder.Host}{port}/{builder.Database}";
    }

    private static bool IsUri(string text) =>
        text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase);

    private static bool LooksLikeConnectionString(string text) =>
        text.Contains('=', StringComparison.Ordinal) && text.Contains("host", StringComparison.OrdinalIgnoreCase);

    /// <summary>A libpq-style URI: postgresql://[user[:password]@][host][:port][/database][?name=value&amp;…].</summary>
    private static NpgsqlConnectionStringBuilder FromUri(string text)
    {
        var rest = text[(text.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var query = string.Empty;
        var mark = rest.IndexOf('?', StringComparison.Ordinal);
        if (mark >= 0)
        {
            query = rest[(mark + 1)..];
            rest = rest[..mark];
        }

        var path = string.Empty;
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            path = rest[(slash + 1)..];
            rest = rest[..slash];
        }

        var builder = new NpgsqlConnectionStringBuilder();
        var at = rest.LastIndexOf('@');
        if (at >= 0)
        {
            var credentials = rest[..at];
            rest = rest[(at + 1)..];
            var colon = credentials.IndexOf(':', StringComparison.Ordinal);
            builder.Username = Uri.UnescapeDataString(colon >= 0 ? credentials[..colon] : credentials);
            if (colon >= 0)
            {
                builder.Password = Uri.UnescapeDataString(credentials[(colon + 1)..]);
            }
        }

        if (rest.Length > 0)
        {
            var portAt = rest.LastIndexOf(':');
            if (portAt >= 0 && !rest.EndsWith(']'))
            {
                builder.Port = int.TryParse(rest[(portAt + 1)..], System.Globalization.CultureInfo.InvariantCulture, out var port)
                    ? port
                    : throw new ArgumentException($"'{rest[(portAt + 1)..]}' is not a port number.");
                rest = rest[..portAt];
            }

            builder.Host = Uri.UnescapeDataString(rest);
        }

        if (path.Length > 0)
        {
            builder.Database = Uri.UnescapeDataString(path);
        }

        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString(equals >= 0 ? pair[..equals] : pair);
            var value = equals >= 0 ? Uri.UnescapeDataString(pair[(equals + 1)..]) : string.Empty;
            if (string.Equals(name, "password", StringComparison.OrdinalIgnoreCase))
            {
                builder.Password = value;
                continue;
            }

            if (!UriParameters.TryGetValue(name, out var keyword))
            {
                throw new ArgumentException($"The URI parameter '{name}' is not supported; use one of {string.Join(", ", UriParameters.Keys)}, or a connection string.");
            }

            builder[keyword] = value;
        }

        if (string.IsNullOrEmpty(builder.Host))
        {
            builder.Host = "localhost";
        }

        return builder;
    }
}
