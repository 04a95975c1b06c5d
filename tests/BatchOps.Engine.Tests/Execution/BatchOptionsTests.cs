using BatchOps.Engine.Execution;
using BatchOps.Engine.Tests.Support;

namespace BatchOps.Engine.Tests.Execution;

public class BatchOptionsTests
{
    public static TheoryData<string, Action<BatchOptions>> InvalidSettings => new()
    {
        { nameof(BatchOptions.ThrottleLimit), o => o.ThrottleLimit = 0 },
        { nameof(BatchOptions.ThrottleLimit), o => o.ThrottleLimit = 5000 },
        { nameof(BatchOptions.ChunkSize), o => o.ChunkSize = 0 },
        { nameof(BatchOptions.ChunkSize), o => o.ChunkSize = -3 },
        { nameof(BatchOptions.RetryCount), o => o.RetryCount = -1 },
        { nameof(BatchOptions.RetryDelay), o => o.RetryDelay = TimeSpan.FromSeconds(-1) },
        { nameof(BatchOptions.Timeout), o => o.Timeout = TimeSpan.Zero },
        { nameof(BatchOptions.Timeout), o => o.Timeout = TimeSpan.FromSeconds(-5) },
        { nameof(BatchOptions.JobTimeout), o => o.JobTimeout = TimeSpan.Zero },
        { nameof(BatchOptions.RateLimit), o => o.RateLimit = 0 },
        { nameof(BatchOptions.RateLimit), o => o.RateLimit = -2 },
        { nameof(BatchOptions.RateLimit), o => o.RateLimit = double.NaN },
        { nameof(BatchOptions.MaxErrors), o => o.MaxErrors = 0 },
        { nameof(BatchOptions.ProgressInterval), o => o.ProgressInterval = TimeSpan.Zero },
    };

    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public async Task RunAsync_InvalidSetting_RejectedBeforeAnyItemRunsNamingSettingAndRange(string setting, Action<BatchOptions> spoil)
    {
        var options = new BatchOptions();
        spoil(options);
        var read = false;
        IEnumerable<int> Source()
        {
            read = true;
            yield return 1;
        }

        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Run.ItemsAsync(Source(), (i, _) => ValueTask.FromResult(i.Value), options));

        Assert.Equal(setting, error.ParamName);
        Assert.StartsWith($"{setting} ", error.Message, StringComparison.Ordinal);
        Assert.Contains("out of range: use ", error.Message, StringComparison.Ordinal);
        Assert.False(read);
    }

    [Fact]
    public void Validate_Defaults_AreValid()
    {
        var options = new BatchOptions();
        options.Validate();
        Assert.Equal((100, 5, 0), (options.ChunkSize, options.ThrottleLimit, options.RetryCount));
    }

    [Fact]
    public async Task RunAsync_OptionsChangedDuringRun_DoNotAffectIt()
    {
        var options = new BatchOptions { ThrottleLimit = 1 };
        var order = new List<long>();
        await Run.ItemsAsync(Run.Range(50), async (item, _) =>
        {
            options.ThrottleLimit = 8;
            order.Add(item.Index);
            await Task.Yield();
            return item.Value;
        }, options);

        Assert.Equal(Enumerable.Range(0, 50).Select(i => (long)i), order);
    }
}
