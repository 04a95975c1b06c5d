using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using BatchOps.Cli.Serve;
using BatchOps.Engine.Store;
using BatchOps.Engine.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;

namespace BatchOps.Cli.Tests.Serve;

/// <summary>
/// Who may talk to <c>batchops serve</c>, on a real Kestrel on a loopback port: the Host allow-list (DNS
/// rebinding), the token by default and the cookie the page trades it for, Origin, --no-run and --no-token.
/// </summary>
public sealed class ServeGuardTests : IAsyncLifetime
{
    private const string Token = "guard-test-token";
    private readonly TempFolder _folder = new();
    private readonly List<WebApplication> _servers = [];
    private SqliteJobStore _store = null!;

    public Task InitializeAsync()
    {
        _store = SqliteJobStore.Open(Path.Combine(_folder.Path, "store"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }

        _store.Dispose();
        SqliteConnection.ClearAllPools();
        _folder.Dispose();
    }

    private string Marker => Path.Combine(_folder.Path, "pwned");

    private string ExecSpec => $$"""{ "name": "posted", "items": [1], "operation": { "kind": "exec", "command": "sh", "args": ["-c", "echo pwned > '{{Marker}}'"] } }""";

    private async Task<(HttpClient Client, int Port)> ServeAsync(string? token = Token, bool noRun = false, string[]? allowedHosts = null, bool cookies = false)
    {
        var app = DashboardApi.Build(_store, new ServeOptions("http://127.0.0.1:0", token, ReadOnly: false) { NoRun = noRun, AllowedHosts = allowedHosts ?? [] });
        _servers.Add(app);
        await app.StartAsync(CancellationToken.None);
        var url = new Uri(app.Urls.First());
        var handler = new HttpClientHandler { CookieContainer = new CookieContainer(), UseCookies = cookies, AllowAutoRedirect = false };
        return (new HttpClient(handler) { BaseAddress = url, Timeout = TimeSpan.FromSeconds(30) }, url.Port);
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, string? host = null, string? origin = null, string? token = Token, string? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (host is not null)
        {
            request.Headers.Host = host;
        }

        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        return request;
    }

    private static async Task<int> StatusAsync(HttpClient client, HttpRequestMessage request)
    {
        using (request)
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            return (int)response.StatusCode;
        }
    }

    [Theory]
    [InlineData("GET", "/api/jobs")]
    [InlineData("GET", "/")]
    [InlineData("GET", "/app.js")]
    [InlineData("GET", "/api/events")]
    [InlineData("GET", "/openapi/v1.json")]
    [InlineData("POST", "/api/jobs/x/cancel")]
    public async Task AForeignHost_IsRefusedBeforeAnyRoutePageOrStream(string method, string path)
    {
        var (client, port) = await ServeAsync();

        Assert.Equal(400, await StatusAsync(client, Request(new HttpMethod(method), path, host: $"evil.example:{port}", body: method == "POST" ? "{}" : null)));
        Assert.Equal(400, await StatusAsync(client, Request(new HttpMethod(method), path, host: "evil.example", token: null, body: method == "POST" ? "{}" : null)));
    }

    [Fact]
    public async Task ARebindingPost_ForeignHostWithItsOwnOrigin_CreatesAndRunsNothing()
    {
        var (client, port) = await ServeAsync(token: null);

        var status = await StatusAsync(client, Request(HttpMethod.Post, "/api/jobs", host: $"evil.example:{port}", origin: $"http://evil.example:{port}", token: null, body: ExecSpec));

        Assert.Equal(400, status);
        await Task.Delay(300);
        Assert.Empty(await _store.FindJobsAsync(new JobQuery(), CancellationToken.None));
        Assert.False(File.Exists(Marker));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    [InlineData("[::1]")]
    [InlineData("127.0.0.2")]
    public async Task LoopbackNames_AreAccepted(string host)
    {
        var (client, port) = await ServeAsync();

        Assert.Equal(200, await StatusAsync(client, Request(HttpMethod.Get, "/api/jobs", host: $"{host}:{port}")));
    }

    [Fact]
    public async Task AllowedHosts_AddNames_AndNothingElse()
    {
        var (client, port) = await ServeAsync(allowedHosts: ["dash.example.test"]);

        Assert.Equal(200, await StatusAsync(client, Request(HttpMethod.Get, "/api/jobs", host: $"dash.example.test:{port}")));
        Assert.Equal(200, await StatusAsync(client, Request(HttpMethod.Get, "/api/jobs", host: $"DASH.example.test:{port}")));
        Assert.Equal(400, await StatusAsync(client, Request(HttpMethod.Get, "/api/jobs", host: $"other.example.test:{port}")));
    }

    [Theory]
    [InlineData("http://evil.example:{port}")]
    [InlineData("http://127.0.0.1:1")]
    [InlineData("null")]
    [InlineData("https://127.0.0.1:{port}")]
    public async Task StateChanges_NeedThisServersOwnOrigin(string origin)
    {
        var (client, port) = await ServeAsync();

        var status = await StatusAsync(client, Request(HttpMethod.Post, "/api/jobs", host: $"127.0.0.1:{port}", origin: origin.Replace("{port}", port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal), body: ExecSpec));

        Assert.Equal(403, status);
        Assert.Empty(await _store.FindJobsAsync(new JobQuery(), CancellationToken.None));
    }

    [Theory]
    [InlineData("GET", "/api/jobs")]
    [InlineData("GET", "/api/jobs/x")]
    [InlineData("GET", "/api/jobs/x/items")]
    [InlineData("GET", "/api/jobs/x/items/0/history")]
    [InlineData("GET", "/api/jobs/x/export?format=json")]
    [InlineData("GET", "/api/statistics")]
    [InlineData("GET", "/api/workers")]
    [InlineData("GET", "/api/events")]
    [InlineData("GET", "/openapi/v1.json")]
    [InlineData("POST", "/api/jobs")]
    [InlineData("POST", "/api/jobs/x/cancel")]
    [InlineData("POST", "/api/jobs/x/resume")]
    [InlineData("POST", "/api/jobs/x/retry")]
    [InlineData("POST", "/api/session")]
    [InlineData("DELETE", "/api/jobs/x")]
    public async Task WithoutTheToken_EveryApiRouteIs401(string method, string path)
    {
        var (client, _) = await ServeAsync();

        Assert.Equal(401, await StatusAsync(client, Request(new HttpMethod(method), path, token: null, body: method == "POST" ? ExecSpec : null)));
        Assert.Equal(401, await StatusAsync(client, Request(new HttpMethod(method), path, token: "guard-test-tokeN", body: method == "POST" ? ExecSpec : null)));
        Assert.Empty(await _store.FindJobsAsync(new JobQuery(), CancellationToken.None));
    }

    [Fact]
    public async Task TheTokenUrl_SetsAStrictHttpOnlyCookie_RedirectsToTheBarePage_AndTheCookieOpensTheApi()
    {
        var (client, port) = await ServeAsync(cookies: true);

        using var opened = await client.GetAsync($"/?token={Token}");
        Assert.Equal(HttpStatusCode.SeeOther, opened.StatusCode);
        Assert.Equal("/", opened.Headers.Location?.OriginalString);
        var cookie = Assert.Single(opened.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith($"batchops_token_{port}={Token};", cookie, StringComparison.Ordinal);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);

        using var jobs = await client.GetAsync("/api/jobs");
        Assert.Equal(HttpStatusCode.OK, jobs.StatusCode);

        using var wrong = await client.GetAsync("/?token=not-it");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
    }

    [Fact]
    public async Task TheSessionRoute_TradesABearerTokenForTheCookie_EvenWhenReadOnly()
    {
        var app = DashboardApi.Build(_store, new ServeOptions("http://127.0.0.1:0", Token, ReadOnly: true));
        _servers.Add(app);
        await app.StartAsync(CancellationToken.None);
        using var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = new Uri(app.Urls.First()) };

        Assert.Equal(204, await StatusAsync(client, Request(HttpMethod.Post, "/api/session")));
        Assert.Equal(200, await StatusAsync(client, Request(HttpMethod.Get, "/api/jobs", token: null)));
        Assert.Equal(405, await StatusAsync(client, Request(HttpMethod.Post, "/api/jobs", token: null, body: ExecSpec)));
    }

    [Fact]
    public async Task NoRun_RefusesPostedSpecs_WithTheReason()
    {
        var (client, _) = await ServeAsync(noRun: true);

        using var request = Request(HttpMethod.Post, "/api/jobs", body: ExecSpec);
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("--no-run", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(await _store.FindJobsAsync(new JobQuery(), CancellationToken.None));
        Assert.False(File.Exists(Marker));
    }

    [Theory]
    [InlineData("http://0.0.0.0:8080")]
    [InlineData("http://*:8080")]
    [InlineData("http://192.0.2.10:8080")]
    public void NoToken_IsRefusedBeyondLoopback(string urls)
    {
        var error = Assert.Throws<ArgumentException>(() => new ServeOptions(urls, null, false).Validate());

        Assert.Contains("--no-token", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheRealProcess_NoTokenOnAWildcardAddress_ExitsWithTheReason()
    {
        var result = await Support.CliHarness.RunProcessAsync(Path.Combine(_folder.Path, "store"), TimeSpan.FromSeconds(60), "serve", "--no-token", "--urls", "http://0.0.0.0:0");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("leave out --no-token", result.Error, StringComparison.Ordinal);
    }
}
