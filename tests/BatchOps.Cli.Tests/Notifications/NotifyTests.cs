using System.Diagnostics;
using System.Text.Json;
using BatchOps.Cli.Tests.Support;
using BatchOps.Engine.Notifications;
using BatchOps.Engine.Store;
using BatchOps.Engine.Tests.Support;
using Microsoft.Data.Sqlite;

namespace BatchOps.Cli.Tests.Notifications;

/// <summary>
/// A spec's "notify" targets, run the way users run them: a webhook on loopback that fails once then takes
/// it, an email through a real SMTP server on loopback, and a process killed while it was sending, whose
/// notice `batchops notify --pending` sends once its claim ran out, and never again after it was sent.
/// Every secret is an env: reference; each test uses variables of its own.
/// </summary>
public sealed class NotifyTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);
    private readonly TempFolder _folder = new();
    private readonly LoopbackHttpServer _server = new();
    private readonly string _hook = $"HOOK_{Guid.NewGuid():N}";
    private readonly string _smtp = $"SMTP_{Guid.NewGuid():N}";

    private string Store => Path.Combine(_folder.Path, "store");

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(_hook, null);
        Environment.SetEnvironmentVariable(_smtp, null);
        _server.Dispose();
        _folder.Dispose();
    }

    private string Spec(string name, object notify, int count = 10) => SpecFiles.Write(_folder.Path, new
    {
        name,
        items = Enumerable.Range(0, count).Select(n => new { n, path = n % 5 == 3 ? "missing" : "ok" }),
        operation = new { kind = "http", url = $"{_server.BaseUrl}/{{path}}/{name}-{{n}}" },
        settings = new { chunkSize = 5, retryCount = 0 },
        notify,
    }, $"{name}.json");

    [Fact]
    public async Task AWebhookThatFailsOnce_GetsTheNoticeOnTheRetry_AsJson_AndItIsRecordedSentOnce()
    {
        Environment.SetEnvironmentVariable(_hook, $"{_server.BaseUrl}/flaky/hook");
        var spec = Spec("hooked", new[] { new { on = new[] { "Failed", "CompletedWithErrors" }, webhook = $"env:{_hook}" } });

        var run = await CliHarness.RunAsync(Store, "run", spec);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Equal(2, _server.Hits.GetValueOrDefault("/flaky/hook"));
        var bodies = _server.Bodies.Where(b => b.Contains("\"source\":\"batchops\"", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, bodies.Count); // the attempt that got a 500, and the one that got through: the same notice
        Assert.Equal(bodies[0], bodies[1]);
        var notice = JsonDocument.Parse(bodies[1]).RootElement;
        Assert.Equal(("hooked", "CompletedWithErrors", 8, 2), (notice.GetProperty("job").GetProperty("name").GetString(), notice.GetProperty("job").GetProperty("status").GetString(),
            notice.GetProperty("job").GetProperty("succeeded").GetInt32(), notice.GetProperty("job").GetProperty("failed").GetInt32()));
        Assert.Equal([3L, 8L], notice.GetProperty("failures").EnumerateArray().Select(f => f.GetProperty("index").GetInt64()));
        Assert.DoesNotContain("/flaky/hook", run.Out + run.Error, StringComparison.Ordinal); // the hook's URL is a secret

        var show = await CliHarness.RunAsync(Store, "show", "hooked");
        Assert.Matches($@"(?m)^Notify\s+webhook env:{_hook} \(json\) on Failed, CompletedWithErrors: sent .* \(2 attempt\(s\)\)$", show.Out);
        Assert.DoesNotContain("/flaky/hook", show.Out, StringComparison.Ordinal);

        var again = await CliHarness.RunAsync(Store, "notify", "--pending");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("No notice is owed.", again.Out, StringComparison.Ordinal);
        Assert.Equal(2, _server.Hits.GetValueOrDefault("/flaky/hook"));
    }

    [Fact]
    public async Task AnEmail_GoesThroughARealSmtpServer_WithTheJobItsCountsAndFirstFailures_AndOnlyForTheStatusesItNames()
    {
        using var smtp = new LoopbackSmtpServer();
        Environment.SetEnvironmentVariable(_smtp, smtp.Url);
        var spec = Spec("mailed", new object[]
        {
            new { on = new[] { "CompletedWithErrors" }, email = new { to = new[] { "ops@example.test", "lead@example.test" }, from = "batchops@example.test", smtp = $"env:{_smtp}" } },
            new { on = new[] { "Completed" }, email = new { to = new[] { "nobody@example.test" }, smtp = $"env:{_smtp}" } },
        });

        var run = await CliHarness.RunAsync(Store, "run", spec);

        Assert.True(run.ExitCode == 1, run.ToString());
        var mail = Assert.Single(smtp.Messages);
        Assert.Equal("BatchOps job 'mailed' CompletedWithErrors", mail.Subject);
        Assert.Equal(["ops@example.test", "lead@example.test"], mail.To.Mailboxes.Select(m => m.Address));
        Assert.Equal("batchops@example.test", mail.From.Mailboxes.Single().Address);
        Assert.Contains("10 item(s), 8 succeeded, 2 failed", mail.TextBody, StringComparison.Ordinal);
        Assert.Contains("- item 3: HttpStatus: ", mail.TextBody, StringComparison.Ordinal);
        var show = await CliHarness.RunAsync(Store, "show", "mailed", "--json");
        var notices = JsonDocument.Parse(show.Out).RootElement.GetProperty("notices").EnumerateArray().ToList();
        Assert.Equal(("Sent", 0), (Assert.Single(notices).GetProperty("status").GetString(), notices[0].GetProperty("target").GetInt32()));
    }

    [Fact]
    public async Task AProcessKilledWhileSending_LeavesTheNoticeOwed_NotifyPendingSendsItOnceItsClaimRanOut_AndNeverAgain()
    {
        var spec = Spec("killed", new[] { new { on = new[] { "CompletedWithErrors" }, webhook = $"env:{_hook}", format = "slack" } });
        using var process = CliHarness.StartWith(Store, new Dictionary<string, string> { [_hook] = $"{_server.BaseUrl}/wait/hook/60000", ["BATCHOPS_HOME"] = _folder.Path }, "run", spec);
        for (var clock = Stopwatch.StartNew(); _server.Hits.GetValueOrDefault("/wait/hook/60000") == 0; await Task.Delay(50))
        {
            Assert.True(clock.Elapsed < Bound && !process.HasExited, "the webhook was never called");
        }

        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();

        // The job's end was recorded before the notice; the notice is held by the dead sender's claim.
        using (var store = SqliteJobStore.Open(Store))
        {
            var job = (await store.FindJobsAsync(new JobQuery { Name = "killed" })).Single();
            Assert.Equal(Engine.Jobs.JobStatus.CompletedWithErrors, job.Status);
            Assert.Equal(NoticeStatus.Sending, Assert.Single(await store.GetNoticesAsync(job.Id)).Status);
        }

        var held = await CliHarness.RunAsync(Store, "notify", "--pending");
        Assert.Contains("No notice is owed.", held.Out, StringComparison.Ordinal);

        // Two minutes later, as far as the store knows: the claim ran out.
        SqliteConnection.ClearAllPools();
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(Store, "batchops.db")};Pooling=False"))
        {
            connection.Open();
            using var backdate = connection.CreateCommand();
            backdate.CommandText = "UPDATE job_notices SET lease_until = lease_until - 180000";
            Assert.Equal(1, backdate.ExecuteNonQuery());
        }

        Environment.SetEnvironmentVariable(_hook, $"{_server.BaseUrl}/ok/hook");
        var sent = await CliHarness.RunAsync(Store, "notify", "--pending");
        Assert.True(sent.ExitCode == 0, sent.ToString());
        Assert.Contains($"Job 'killed' (", sent.Out, StringComparison.Ordinal);
        Assert.Contains($"notice sent: webhook env:{_hook} (slack) (1 attempt(s))", sent.Out, StringComparison.Ordinal);
        Assert.Equal(1, _server.Hits.GetValueOrDefault("/ok/hook"));
        var slack = JsonDocument.Parse(_server.Bodies.Last(b => b.Contains("\"text\"", StringComparison.Ordinal))).RootElement.GetProperty("text").GetString()!;
        Assert.StartsWith("Job 'killed' (", slack, StringComparison.Ordinal);

        var again = await CliHarness.RunAsync(Store, "notify", "--pending", "--failed");
        Assert.Contains("No notice is owed.", again.Out, StringComparison.Ordinal);
        Assert.Equal(1, _server.Hits.GetValueOrDefault("/ok/hook"));
    }

    [Theory]
    [InlineData("""[{ "on": ["Failed"], "webhook": "https://hooks.example.test/services/T0/B0/XOXB-SECRET-TOKEN" }]""", "notify[0]: \"webhook\": BatchOps never stores its URL (a webhook URL carries its secret): put it in an environment variable and write \"env:NAME\".")]
    [InlineData("""[{ "on": ["Running"], "webhook": "env:HOOK" }]""", "notify[0]: \"on\": Running is not how a job ends")]
    [InlineData("""[{ "on": [], "webhook": "env:HOOK" }]""", "notify[0]: \"on\" is required")]
    [InlineData("""[{ "on": ["Failed"] }]""", "notify[0]: give either \"webhook\" or \"email\"")]
    [InlineData("""[{ "on": ["Failed"], "email": { "to": ["not an address"], "smtp": "env:SMTP" } }]""", "notify[0]: \"email\": \"to\": 'not an address' is not an email address.")]
    [InlineData("""[{ "on": ["Failed"], "email": { "to": ["a@example.test"], "smtp": "smtp://user:pw@mail.example.test" } }]""", "notify[0]: \"email\": \"smtp\": BatchOps never stores smtp://user:password@host:port")]
    public async Task ABadNotifyTarget_IsRefusedBeforeAnythingIsCreated_NamingTheFix(string notify, string expected)
    {
        var spec = Path.Combine(_folder.Path, "bad.json");
        await File.WriteAllTextAsync(spec, $$"""{ "name": "bad-notify", "items": [1], "operation": { "kind": "exec", "command": "true" }, "notify": {{notify}} }""");

        var result = await CliHarness.RunAsync(Store, "run", spec);

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains(expected, result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("XOXB-SECRET-TOKEN", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("user:pw", result.Error, StringComparison.Ordinal);
        var list = await CliHarness.RunAsync(Store, "list", "--json");
        Assert.DoesNotContain("bad-notify", list.Out, StringComparison.Ordinal);
    }
}
