using BatchOps.Engine.Store;
using BatchOps.Postgres;
using BatchOps.Testing;

namespace BatchOps.Engine.Tests.Support;

/// <summary>The stores job tests run against: SQLite in a folder, the in-memory store, and a fresh PostgreSQL database.</summary>
internal static class TestStores
{
    public static TheoryData<string> Kinds => new() { "sqlite", "memory", "postgresql" };

    public static async Task<IJobStore> CreateAsync(string kind, string folder, PostgresServer postgres) => kind switch
    {
        "sqlite" => SqliteJobStore.Open(folder),
        "postgresql" => PostgresJobStore.Open(await postgres.CreateDatabaseAsync()),
        _ => new InMemoryJobStore(),
    };
}
