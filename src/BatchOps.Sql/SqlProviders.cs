namespace BatchOps.Sql;

/// <summary>The databases a sql operation writes to.</summary>
public static class SqlProviders
{
    /// <summary>PostgreSQL through Npgsql: binary COPY, one transaction per chunk.</summary>
    public const string PostgreSql = "postgresql";

    /// <summary>SQLite through Microsoft.Data.Sqlite: prepared statements, one transaction per chunk.</summary>
    public const string Sqlite = "sqlite";
}
