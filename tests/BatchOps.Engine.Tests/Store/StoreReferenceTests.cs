using BatchOps.Engine.Store;
using BatchOps.Postgres;
using Npgsql;

namespace BatchOps.Engine.Tests.Store;

public class StoreReferenceTests
{
    [Theory]
    [InlineData("postgresql://ops@db1:5433/batch", "db1", 5433, "batch", "ops")]
    [InlineData("postgres://db1/batch?sslmode=require", "db1", 5432, "batch", null)]
    [InlineData("postgresql:///batch?host=%2Fvar%2Frun%2Fpostgresql&user=ops", "/var/run/postgresql", 5432, "batch", "ops")]
    [InlineData("Host=db1;Database=batch;Username=ops", "db1", 5432, "batch", "ops")]
    public void ToConnectionString_ReadsUrisAndConnectionStrings(string reference, string host, int port, string database, string? user)
    {
        Assert.True(StoreReference.IsPostgres(reference));

        var builder = new NpgsqlConnectionStringBuilder(StoreReference.ToConnectionString(reference));

        Assert.Equal((host, port, database, user), (builder.Host, builder.Port, builder.Database, builder.Username));
    }

    [Theory]
    [InlineData("postgresql://ops:hunter2@db1/batch")]
    [InlineData("Host=db1;Database=batch;Password=hunter2")]
    public void ToConnectionString_PasswordOnTheCommandLine_IsRefusedWithTheFix(string reference)
    {
        var error = Assert.Throws<StoreException>(() => StoreReference.ToConnectionString(reference));

        Assert.Contains("env:NAME", error.Message, StringComparison.Ordinal);
        Assert.Contains("PGPASSWORD", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToConnectionString_EnvironmentReference_MayHoldAPassword_AndAMissingVariableIsNamed()
    {
        var name = "BATCHOPS_TEST_STORE_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        var missing = Assert.Throws<StoreException>(() => StoreReference.ToConnectionString("env:" + name));
        Assert.Contains($"{name}, which is not set", missing.Message, StringComparison.Ordinal);

        Environment.SetEnvironmentVariable(name, "postgresql://ops:s3cret@db1/batch");
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(StoreReference.ToConnectionString("env:" + name));
            Assert.Equal(("ops", "s3cret"), (builder.Username, builder.Password));
            Assert.Equal("postgresql://ops@db1/batch", StoreReference.Describe(builder));
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    [Theory]
    [InlineData("/var/lib/batchops")]
    [InlineData("./store")]
    [InlineData(null)]
    public void IsPostgres_FoldersAreNot(string? reference) => Assert.False(StoreReference.IsPostgres(reference));

    [Fact]
    public void ToConnectionString_UnknownUriParameter_IsNamed()
    {
        var error = Assert.Throws<StoreException>(() => StoreReference.ToConnectionString("postgresql://db1/batch?colour=blue"));

        Assert.Contains("'colour' is not supported", error.Message, StringComparison.Ordinal);
    }
}
