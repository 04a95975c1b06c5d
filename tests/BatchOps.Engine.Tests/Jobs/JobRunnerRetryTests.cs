using System.Collections.Concurrent;
using System.Text.Json;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Engine.Tests.Support;
using BatchOps.Testing;

namespace BatchOps.Engine.Tests.Jobs;

/// <summary>What a job keeps about its retries, on every store: each retried attempt, its HTTP status and the wait honoured.</summary>
[Collection(PostgresCollection.Name)]
public class JobRunnerRetryTests(PostgresServer postgres) : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    public static TheoryData<string> Stores => TestStores.Kinds;

    private static IEnumerable<JsonElement> Numbers(int count) =>
        Enumerable.Range(0, count).Select(i => JsonSerializer.SerializeToElement(new { n = i }));

    private static JobDefinition Definition(JobSettings settings) => new() { Name = "retried", OperationKind = "test", Operation = "{}", Settings = settings };

    private static JobRunRequest<JsonElement, string?> Request(Func<int, int, string?> operation, RunKind kind = RunKind.Resume)
    {
        var attempts = new ConcurrentDictionary<int, int>();
        return new()
        {
            Operation = BatchOperation<JsonElement, string?>.PerItem((item, _) =>
            {
                var n = item.Value.GetProperty("n").GetInt32();
                return ValueTask.FromResult(operation(n, attempts.AddOrUpdate(n, 1, (_, a) => a + 1)));
            }),
            InputCodec = JsonPayloadCodec.Instance,
            OutputCodec = TextPayloadCodec.Instance,
            Kind = kind,
        };
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task RetriedAttempts_AreKeptPerItemAndRun_WithTheStatusAndTheWaitHonoured(string kind)
    {
        using var store = await TestStores.CreateAsync(kind, _folder.Path, postgres);
        var runner = new JobRunner(store, StoreLocation.LogFolder(_folder.Path));
        var job = await runner.CreateAsync(Definition(new JobSettings { ChunkSize = 4, ThrottleLimit = 4, RetryCount = 2, RetryDelayMs = 5 }), Numbers(10), JsonPayloadCodec.Instance, "text");

        var first = await runner.RunAsync(job.Id, Request((n, attempt) => (n, attempt) switch
        {
            (3, 1) => throw new BatchOperationException("answered 503", isRetryable: true, retryAfter: TimeSpan.FromMilliseconds(40)) { ErrorType = HttpFailure.ErrorType, StatusCode = 503 },
            (5, < 3) => throw new TimeoutException($"slow {attempt}"),
            (7, _) => throw new InvalidOperationException("always"),
            _ => "ok",
        }));

        Assert.Equal((9L, 1L), (first.Job.Counts.Succeeded, first.Job.Counts.Failed));
        var throttled = Assert.Single(await store.GetItemRetriesAsync(job.Id, 3));
        Assert.Equal((1, 1, HttpFailure.ErrorType, (int?)503, "answered 503", TimeSpan.FromMilliseconds(40)), (throttled.Run, throttled.Attempt, throttled.ErrorType, throttled.StatusCode, throttled.Message, throttled.Delay));
        var slow = await store.GetItemRetriesAsync(job.Id, 5);
        Assert.Equal([(1, "System.TimeoutException", "slow 1"), (2, "System.TimeoutException", "slow 2")], slow.Select(r => (r.Attempt, r.ErrorType, r.Message)));
        Assert.All(slow, r => Assert.Null(r.StatusCode));
        Assert.Equal(2, (await store.GetItemRetriesAsync(job.Id, 7)).Count);
        Assert.Empty(await store.GetItemRetriesAsync(job.Id, 0));

        // The failed item tried again in a second run: its retries of that run are kept as run 2.
        await runner.RunAsync(job.Id, Request((n, _) => throw new InvalidOperationException("still"), RunKind.RetryFailed));
        var runs = (await store.GetItemRetriesAsync(job.Id, 7)).Select(r => (r.Run, r.Attempt)).ToArray();
        Assert.Equal([(1, 1), (1, 2), (2, 1), (2, 2)], runs);

        Assert.True(await store.RemoveJobAsync(job.Id));
        Assert.Empty(await store.GetItemRetriesAsync(job.Id, 7));
    }

    [Fact]
    public void RetryAfter_IsHonouredUpToMaxRetryDelay_AndTheJobTimeout()
    {
        var options = new BatchOptions { MaxRetryDelay = TimeSpan.FromSeconds(10) };
        Assert.Equal(TimeSpan.FromSeconds(3), ResiliencePipelineFactory.Honoured(TimeSpan.FromSeconds(3), options));
        Assert.Equal(TimeSpan.FromSeconds(10), ResiliencePipelineFactory.Honoured(TimeSpan.FromHours(1), options));
        Assert.Equal(TimeSpan.Zero, ResiliencePipelineFactory.Honoured(TimeSpan.FromSeconds(-5), options));
        options.JobTimeout = TimeSpan.FromSeconds(4);
        Assert.Equal(TimeSpan.FromSeconds(4), ResiliencePipelineFactory.Honoured(TimeSpan.FromSeconds(8), options));
    }

    [Fact]
    public void RetryRules_NameErrorsByTypeBaseTypeOrRecordedType_AndNoRetryOnWins()
    {
        var http404 = new BatchOperationException("404", isRetryable: false) { ErrorType = HttpFailure.ErrorType, StatusCode = 404 };
        var wrappedTimeout = new InvalidOperationException("outer", new TimeoutException("inner"));

        var onlyTimeouts = RetryRules.Classifier(["TimeoutException"], null)!;
        Assert.True(onlyTimeouts(new TimeoutException()));
        Assert.True(onlyTimeouts(wrappedTimeout));
        Assert.False(onlyTimeouts(new IOException("disk")));

        // Widening: the job retries what the default rule would not (a 404 it knows to be eventual).
        Assert.False(RetryClassifier.IsRetryable(http404));
        Assert.True(RetryRules.Classifier(["httpstatus"], null)!(http404));
        Assert.True(RetryRules.Classifier(["System.Exception"], null)!(new ArgumentException("any")));

        // Narrowing: named errors are never retried; the rest follow the default rule.
        var neverIo = RetryRules.Classifier(null, ["System.IO.IOException"])!;
        Assert.False(neverIo(new FileNotFoundException("gone")));
        Assert.True(neverIo(new TimeoutException()));
        Assert.False(neverIo(new ArgumentException("bad")));
        Assert.False(RetryRules.Classifier(["TimeoutException"], ["TimeoutException"])!(new TimeoutException()));
        Assert.True(RetryRules.Classifier(null, ["x"])!(new AggregateException(new TimeoutException())));
        Assert.False(RetryRules.Classifier(null, ["TimeoutException"])!(new AggregateException(new IOException(), new TimeoutException())));

        Assert.Null(RetryRules.Classifier(null, null));
        Assert.Null(RetryRules.Classifier([" "], []));
    }

    [Fact]
    public void Settings_CarryRetryOnAndMaxRetryDelay_IntoTheRunsOptions()
    {
        var options = new JobSettings { RetryOn = ["TimeoutException"], MaxRetryDelayMs = 2500 }.Over(new JobSettings { RetryCount = 3 }).ToOptions();

        Assert.Equal(TimeSpan.FromMilliseconds(2500), options.MaxRetryDelay);
        Assert.False(options.IsRetryable!(new IOException()));
        Assert.True(options.IsRetryable!(new TimeoutException()));
        Assert.Null(new JobSettings().ToOptions().IsRetryable);
        Assert.Equal("retryCount=3, maxRetryDelayMs=2500, retryOn=TimeoutException", new JobSettings { RetryOn = ["TimeoutException"], MaxRetryDelayMs = 2500, RetryCount = 3 }.ToString());
    }
}
