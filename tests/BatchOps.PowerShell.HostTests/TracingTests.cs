using System.Collections.Concurrent;
using System.Diagnostics;
using BatchOps.PowerShell.HostTests.Support;

namespace BatchOps.PowerShell.HostTests;

/// <summary>
/// Tracing seen from a script block: when BatchOps is traced (here a listener in this process, as an
/// OpenTelemetry exporter would be), $BatchContext carries the item attempt's span, which a script passes on.
/// </summary>
public sealed class TracingTests : IDisposable
{
    private readonly string _name = $"traced-{Guid.NewGuid():N}";
    private readonly ConcurrentQueue<Activity> _attempts = new();
    private readonly ActivityListener _listener;

    public TracingTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "BatchOps",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.OperationName == "batchops.item" && Equals(activity.GetTagItem("batchops.job.name"), _name))
                {
                    _attempts.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    [Fact]
    public void BatchContext_CarriesTheItemAttemptsSpan_AsTraceIdSpanIdAndTraceParent()
    {
        using var session = new PsSession();
        session.Runspace.SessionStateProxy.SetVariable("name", _name);

        var run = session.Run("""
            1..4 | Invoke-BatchJob -Name $name -ThrottleLimit 2 -ScriptBlock { "$_|$($BatchContext.TraceParent)|$($BatchContext.TraceId)|$($BatchContext.SpanId)" } |
                ForEach-Object Output
            """).ThrowIfFailed();

        var spans = _attempts.ToDictionary(a => (long)a.GetTagItem("batchops.item.index")!);
        Assert.Equal(4, spans.Count);
        foreach (var line in run.Output.Select(o => o.ToString().Split('|')))
        {
            var span = spans[long.Parse(line[0], System.Globalization.CultureInfo.InvariantCulture) - 1];
            Assert.Equal(string.Join("|", span.Id, span.TraceId.ToHexString(), span.SpanId.ToHexString()), string.Join("|", line[1..]));
        }
    }
}
