namespace BatchOps.Testing;

/// <summary>
/// The test fixture over a <see cref="PostgresCluster"/>: one throwaway cluster per test assembly, one
/// database per test. Without PostgreSQL the tests that need it fail with how to install it (a skip must
/// not read as a pass).
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private readonly PostgresCluster _cluster = new();

    public Task InitializeAsync() => _cluster.StartAsync();

    /// <summary>A new empty database; its connection string (no password: trust over the Unix socket).</summary>
    public Task<string> CreateDatabaseAsync()
    {
        if (_cluster.Missing is { } missing)
        {
            Assert.Fail(missing);
        }

        return _cluster.CreateDatabaseAsync();
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "PostgreSQL";
}

/// <summary>
/// Tests whose assertions are about time across processes (a global rate, a stop within 2 s): they run
/// after every other collection of their assembly, alone, on a cluster of their own, so that the other
/// tests' processes and the test host's busy thread pool (which serves their loopback HTTP server) do not
/// stall the workers they measure.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class QuietPostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "PostgreSQL, alone";
}
