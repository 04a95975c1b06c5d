using System.Text;
using BatchOps.PowerShell.HostTests.Support;
using BatchOps.Testing;

namespace BatchOps.PowerShell.HostTests;

/// <summary>
/// Credentials passed to script blocks, as runbooks pass them: a PSCredential, a SecureString, a token in a
/// plain string and a hashtable holding a credential through $using:, and credentials inside piped items.
/// The run gets every value; no byte form of any secret reaches the store's files (database, WAL, logs),
/// show, exports or Get-BatchJob; a later session must pass them again with -UsingValue.
/// </summary>
public sealed class SecretsTests : IDisposable
{
    private const string Password = "Pa55-word-XYZ";
    private const string Token = "tok-9f8e7d6c5b4a";
    private const string Vault = "Ss-Secret-123";
    private const string Nested = "Nested-Pw-456";
    internal const string ItemPassword = "Item-Pw-789";
    private static readonly string[] Secrets = [Password, Token, Vault, Nested, ItemPassword];

    internal const string Setup = $$"""
        $cred = [pscredential]::new('admin', [System.Net.NetworkCredential]::new('', '{{Password}}').SecurePassword)
        $token = '{{Token}}'
        $vault = [System.Net.NetworkCredential]::new('', '{{Vault}}').SecurePassword
        $config = @{ Inner = [pscredential]::new('svc', [System.Net.NetworkCredential]::new('', '{{Nested}}').SecurePassword); Region = 'west' }
        $servers = 'web01'
        """;

    /// <summary>What the script block reports: the lengths of what it received (never the values, which outputs would store).</summary>
    internal const string Block = "{ '{0} {1} {2} {3} {4} {5} {6}' -f $using:cred.UserName, ($using:cred).GetNetworkCredential().Password.Length, $using:token.Length, [pscredential]::new('x', $using:vault).GetNetworkCredential().Password.Length, ($using:config).Inner.GetNetworkCredential().Password.Length, $using:servers, $_ }";

    internal const string Received = "admin 13 16 13 13 web01";

    private readonly PsSession _session = new();

    public void Dispose() => _session.Dispose();

    /// <summary>Every encoding a reader could turn back into a secret: UTF-8, UTF-16LE, hex of either (both cases), base64 of either.</summary>
    private static IEnumerable<(string Form, byte[] Bytes)> Forms(string secret)
    {
        foreach (var (name, raw) in new[] { ("UTF-8", Encoding.UTF8.GetBytes(secret)), ("UTF-16LE", Encoding.Unicode.GetBytes(secret)) })
        {
            yield return (name, raw);
            yield return ($"hex of {name}", Encoding.ASCII.GetBytes(Convert.ToHexString(raw)));
            yield return ($"lowercase hex of {name}", Encoding.ASCII.GetBytes(Convert.ToHexString(raw).ToLowerInvariant()));
            yield return ($"base64 of {name}", Encoding.ASCII.GetBytes(Convert.ToBase64String(raw)));
        }
    }

    internal static void AssertNoSecretIn(byte[] bytes, string where, params string[] except)
    {
        foreach (var secret in Secrets.Except(except))
        {
            foreach (var (form, needle) in Forms(secret))
            {
                Assert.False(bytes.AsSpan().IndexOf(needle) >= 0, $"{where} holds '{secret}' ({form})");
            }
        }
    }

    internal static string? OutputOf(System.Management.Automation.PSObject result) => result.Properties["Output"].Value?.ToString();

    private static byte[] FolderBytes(string folder)
    {
        var bytes = new List<byte>();
        foreach (var file in Directory.GetFiles(folder, "*", SearchOption.AllDirectories))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            bytes.AddRange(copy.ToArray());
        }

        return [.. bytes];
    }

    [Fact]
    public void Credentials_ReachTheRun_AndNoFormOfAnySecretReachesTheStoreShowExportOrGetBatchJob()
    {
        var exports = Path.Combine(_session.Store, "exports");
        var run = _session.Run($$"""
            {{Setup}}
            1..3 | Invoke-BatchJob {{Block}} -Name secrets -ThrottleLimit 2
            $items = 1..2 | ForEach-Object { [pscustomobject]@{ N = $_; Cred = [pscredential]::new("u$_", [System.Net.NetworkCredential]::new('', '{{ItemPassword}}').SecurePassword) } }
            $items | Invoke-BatchJob { "$($_.N) $($_.Cred.GetNetworkCredential().Password.Length)" } -Name item-secrets
            $null = [IO.Directory]::CreateDirectory('{{exports}}')
            Export-BatchJob -Id secrets -Format Json -Path '{{exports}}/secrets.json'
            Export-BatchJob -Id item-secrets -Format Csv -Path '{{exports}}/items.csv'
            [System.Management.Automation.PSSerializer]::Serialize(@(Get-BatchJob), 6)
            [System.Management.Automation.PSSerializer]::Serialize(@(Get-BatchItem -Id item-secrets), 6)
            """).ThrowIfFailed();

        Assert.Equal(new[] { $"{Received} 1", $"{Received} 2", $"{Received} 3", "1 11", "2 11" }.Order(StringComparer.Ordinal), run.Output.Take(5).Select(OutputOf).Order(StringComparer.Ordinal));
        AssertNoSecretIn(FolderBytes(_session.Store), "the store folder (database, WAL, logs, exports)");
        AssertNoSecretIn(Encoding.UTF8.GetBytes(string.Join('\n', run.Output.Skip(5).Select(o => o.ToString()))), "Get-BatchJob and Get-BatchItem");
        var show = _session.Batchops("show", "secrets", "--json", "--items") + _session.Batchops("show", "item-secrets", "--json", "--items") + _session.Batchops("export", "secrets", "--format", "json");
        AssertNoSecretIn(Encoding.UTF8.GetBytes(show), "batchops show and export");
        Assert.Contains("secretUsings", show, StringComparison.Ordinal);
        Assert.Contains("&lt;secret&gt;", show, StringComparison.Ordinal);
    }

    [Fact]
    public void Resume_InTheSameSession_HasTheSecrets_AnotherSessionMustPassThem()
    {
        _session.Run($$"""
            {{Setup}}
            $null = 1..4 | New-BatchJob {{Block}} -Name here
            $null = 1..4 | New-BatchJob {{Block}} -Name elsewhere
            """).ThrowIfFailed();

        // The session that made the job still has the values in memory.
        var same = _session.Run("(Invoke-BatchJob -Id here -ThrottleLimit 1)[3].Output").ThrowIfFailed();
        Assert.Equal($"{Received} 4", same.Output.Single().ToString());

        // Another session (another process would be the same): a clear error naming the variables, nothing run.
        using var other = new PsSession(_session.Store);
        var refused = other.Run("Invoke-BatchJob -Id elsewhere");
        var error = Assert.Single(refused.Errors);
        Assert.Equal("BatchOps.SecretsMissing,BatchOps.PowerShell.Commands.InvokeBatchJobCommand", error.FullyQualifiedErrorId);
        Assert.Contains("$using: cred, token, vault, config", error.Exception.Message, StringComparison.Ordinal);
        Assert.Contains("-UsingValue @{ cred = $cred; token = $token; vault = $vault; config = $config }", error.Exception.Message, StringComparison.Ordinal);
        Assert.Empty(refused.Output);
        Assert.Equal("4", other.Run("(Get-BatchJob -Name elsewhere).Pending").ThrowIfFailed().Output.Single().ToString());

        var passed = other.Run($$"""
            {{Setup}}
            (Invoke-BatchJob -Id elsewhere -ThrottleLimit 1 -UsingValue @{ cred = $cred; token = $token; vault = $vault; config = $config })[3].Output
            (Get-BatchJob -Name elsewhere).Status.ToString()
            """).ThrowIfFailed();
        Assert.Equal([$"{Received} 4", "Completed"], passed.Output.Select(o => o.ToString()));
        AssertNoSecretIn(FolderBytes(_session.Store), "the store folder after the resume");
    }

    [Fact]
    public void PersistUsing_StoresANamedNonSecret_SecretVariable_KeepsAnyOtherOut()
    {
        var run = _session.Run($$"""
            $apiKeyName = 'X-Api-Key'
            $tenant = '{{Token}}'
            1 | Invoke-BatchJob { "$using:apiKeyName $($using:tenant.Length)" } -Name opt -PersistUsing apiKeyName -SecretVariable tenant
            """).ThrowIfFailed();

        Assert.Equal("X-Api-Key 16", OutputOf(run.Output.Single()));
        var stored = Encoding.UTF8.GetString(FolderBytes(_session.Store));
        Assert.Contains("X-Api-Key", stored, StringComparison.Ordinal);
        AssertNoSecretIn(FolderBytes(_session.Store), "the store folder");
    }
}

/// <summary>The same credentials through a PostgreSQL store: no form of any secret in any of its tables.</summary>
[Collection(PostgresCollection.Name)]
public sealed class SecretsPostgresTests(PostgresServer server) : IDisposable
{
    private readonly PsSession _session = new();

    public void Dispose() => _session.Dispose();

    [Fact]
    public async Task Credentials_ReachTheRun_AndNoTableOfTheSharedStoreHoldsAnyFormOfThem()
    {
        var database = await server.CreateDatabaseAsync();
        _session.Runspace.SessionStateProxy.SetVariable("Shared", database);

        var run = _session.Run($$"""
            {{SecretsTests.Setup}}
            1..3 | Invoke-BatchJob {{SecretsTests.Block}} -Name pg-secrets -Store $Shared -ThrottleLimit 1
            $items = 1..2 | ForEach-Object { [pscustomobject]@{ N = $_; Cred = [pscredential]::new("u$_", [System.Net.NetworkCredential]::new('', '{{SecretsTests.ItemPassword}}').SecurePassword) } }
            $items | Invoke-BatchJob { $_.N } -Name pg-item-secrets -Store $Shared
            """).ThrowIfFailed();

        Assert.Equal($"{SecretsTests.Received} 1", SecretsTests.OutputOf(run.Output[0]));
        await using var connection = new Npgsql.NpgsqlConnection(database);
        await connection.OpenAsync();
        var dump = new System.Text.StringBuilder();
        foreach (var table in new[] { "jobs", "items", "item_blocks", "item_history", "job_chunks", "workers" })
        {
            await using var exists = new Npgsql.NpgsqlCommand($"SELECT to_regclass('batchops.{table}') IS NOT NULL", connection);
            if (await exists.ExecuteScalarAsync() is true)
            {
                await using var read = new Npgsql.NpgsqlCommand($"SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM batchops.{table} t", connection);
                dump.Append(await read.ExecuteScalarAsync());
            }
        }

        Assert.Contains("pg-secrets", dump.ToString(), StringComparison.Ordinal);
        SecretsTests.AssertNoSecretIn(Encoding.UTF8.GetBytes(dump.ToString()), "the PostgreSQL store's tables");
    }
}
