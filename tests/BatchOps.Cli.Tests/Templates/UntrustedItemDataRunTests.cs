using System.Text.Json;
using BatchOps.Operations;
using BatchOps.Cli.Tests.Support;
using BatchOps.Testing;
using BatchOps.Engine.Tests.Support;

namespace BatchOps.Cli.Tests.Templates;

/// <summary>
/// The five ways item data steered a request before, each run as a user runs it (<c>batchops run</c> of a
/// spec against a real server on 127.0.0.1): every one of them failed on the code that inserted values raw.
/// </summary>
public sealed class UntrustedItemDataRunTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new();
    private RecordingServer _server = null!;

    public async Task InitializeAsync() => _server = await RecordingServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _folder.Dispose();
    }

    private string Store => Path.Combine(_folder.Path, "store");

    private async Task<CliHarness.Result> RunAsync(string value, object operation, params string[] extra)
    {
        var spec = SpecFiles.Write(_folder.Path, new { name = "untrusted", items = new[] { new { v = value } }, operation });
        return await CliHarness.RunAsync(Store, ["run", spec, .. extra]);
    }

    [Fact]
    public async Task UrlPath_ValueWithDotDotAndQuery_StaysOneSegmentOfTheSamePath()
    {
        var run = await RunAsync("a/../../admin?x=1#f", new { kind = "http", url = $"{_server.BaseUrl}/users/{{v}}/profile", headers = new Dictionary<string, string> { ["Authorization"] = "Bearer s3cret" } });

        Assert.True(run.ExitCode == 0, run.ToString());
        var request = Assert.Single(_server.Requests);
        Assert.Equal(["users", "a/../../admin?x=1#f", "profile"], request.PathSegments);
        Assert.Empty(request.Query);
    }

    [Fact]
    public async Task UrlQuery_ValueWithAmpersand_StaysOneParameter()
    {
        var run = await RunAsync("a&admin=1", new { kind = "http", url = $"{_server.BaseUrl}/search?q={{v}}&page=1" });

        Assert.True(run.ExitCode == 0, run.ToString());
        var request = Assert.Single(_server.Requests);
        Assert.Equal(["page", "q"], request.Query.Keys.Order());
        Assert.Equal(["a&admin=1"], request.Query["q"]);
    }

    [Fact]
    public async Task JsonTextBody_ValueWithQuotes_StaysOneStringField()
    {
        const string value = "x\", \"admin\": true, \"y\": \"";
        var run = await RunAsync(value, new
        {
            kind = "http",
            method = "POST",
            url = $"{_server.BaseUrl}/users",
            headers = new Dictionary<string, string> { ["Content-Type"] = "application/json" },
            body = "{{\"name\": \"{v}\"}}",
        });

        Assert.True(run.ExitCode == 0, run.ToString());
        using var body = JsonDocument.Parse(Assert.Single(_server.Requests).Body);
        var field = Assert.Single(body.RootElement.EnumerateObject());
        Assert.Equal(("name", value), (field.Name, field.Value.GetString()));
    }

    [Fact]
    public async Task Header_ValueWithCrLf_FailsTheItem_AndSendsNothing()
    {
        var run = await RunAsync("a\r\nX-Admin: 1", new { kind = "http", url = $"{_server.BaseUrl}/tag", headers = new Dictionary<string, string> { ["X-Tag"] = "{v}" } });

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Empty(_server.Requests);
        var show = await CliHarness.RunAsync(Store, "show", "untrusted", "--items", "--json");
        using var document = JsonDocument.Parse(show.Out);
        var error = document.RootElement.GetProperty("items")[0].GetProperty("error");
        Assert.Equal(HttpOperation.InvalidHeaderValue, error.GetProperty("type").GetString());
        Assert.Contains("'X-Tag'", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, document.RootElement.GetProperty("items")[0].GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task ExecShellScript_WithAPlaceholder_DryRunAndRunWarn_NamingTheArgument()
    {
        var marker = Path.Combine(_folder.Path, "ran");
        var operation = new { kind = "exec", command = "sh", args = new[] { "-c", "echo {v}" } };

        var dryRun = await RunAsync($"x; touch '{marker}'", operation, "--dry-run");
        Assert.True(dryRun.ExitCode == 0, dryRun.ToString());
        Assert.Matches(@"warning: .*job\.json: operation\.args\[1\] puts item data \(\{v\}\) into shell code that sh runs", dryRun.Error);
        Assert.Contains("\"allowShellPlaceholders\": true", dryRun.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(marker));

        var trusted = SpecFiles.Write(_folder.Path, new { name = "trusted", items = new[] { new { v = "hello" } }, operation = new { kind = "exec", command = "sh", args = new[] { "-c", "echo {v}" }, allowShellPlaceholders = true } }, "trusted.json");
        var run = await CliHarness.RunAsync(Store, "run", trusted);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.DoesNotContain("warning:", run.Error, StringComparison.Ordinal);
    }
}
