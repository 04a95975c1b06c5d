using BatchOps.Cli.Serve;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Engine.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Playwright;

namespace BatchOps.Dashboard.BrowserTests;

/// <summary>
/// The page behind a token, in headless Chromium: the URL batchops serve prints opens it, the token leaves
/// the address bar, the page's API calls and event stream work through the HttpOnly cookie (no script can
/// read it), and the page opened without the token asks for it.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class TokenPageTests(Browser browser) : IAsyncLifetime
{
    private const string Token = "0123456789abcdef0123456789abcdef";
    private readonly TempFolder _folder = new();
    private SqliteJobStore _store = null!;
    private WebApplication _server = null!;

    private string BaseUrl => _server.Urls.First().TrimEnd('/');

    public async Task InitializeAsync()
    {
        _store = SqliteJobStore.Open(Path.Combine(_folder.Path, "store"));
        var runner = new JobRunner(_store);
        var job = await runner.CreateAsync(
            new JobDefinition { Name = "behind-a-token", OperationKind = "test", Operation = "{}" },
            ["a", "b"], TextPayloadCodec.Instance, TextPayloadCodec.Instance.Format);
        await runner.RunAsync(job.Id, new JobRunRequest<string?, string?>
        {
            Operation = BatchOperation<string?, string?>.PerItem((item, _) => ValueTask.FromResult(item.Value)),
            InputCodec = TextPayloadCodec.Instance,
            OutputCodec = TextPayloadCodec.Instance,
        });
        _server = DashboardApi.Build(_store, new ServeOptions("http://127.0.0.1:0", Token, false));
        await _server.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _store.Dispose();
        SqliteConnection.ClearAllPools();
        _folder.Dispose();
    }

    [Fact]
    public async Task TheTokenUrl_OpensThePage_DropsTheToken_AndTheApiWorksThroughTheCookie()
    {
        var (page, errors) = await browser.NewPageAsync();

        await page.GotoAsync($"{BaseUrl}/?token={Token}");
        await page.Locator("#history tbody tr", new() { HasText = "behind-a-token" }).WaitForAsync();

        Assert.Equal($"{BaseUrl}/", page.Url);
        Assert.DoesNotContain(Token, await page.EvaluateAsync<string>("document.cookie + location.href + JSON.stringify(sessionStorage) + JSON.stringify(localStorage)"), StringComparison.Ordinal);
        await Assertions.Expect(page.Locator("#live")).ToHaveTextAsync("live");
        var cookie = Assert.Single(await page.Context.CookiesAsync(), c => c.Name.StartsWith("batchops_token_", StringComparison.Ordinal));
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.DoesNotContain(errors, e => !e.Contains("401", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ThePageWithoutTheToken_AsksForIt_AndWorksOnceGiven()
    {
        var (page, _) = await browser.NewPageAsync();
        var asked = 0;
        page.Dialog += async (_, dialog) =>
        {
            asked++;
            await dialog.AcceptAsync(Token);
        };

        await page.GotoAsync($"{BaseUrl}/");
        await page.Locator("#history tbody tr", new() { HasText = "behind-a-token" }).WaitForAsync();

        Assert.True(asked >= 1);
        Assert.Contains(await page.Context.CookiesAsync(), c => c.Name.StartsWith("batchops_token_", StringComparison.Ordinal) && c.HttpOnly);
    }
}
