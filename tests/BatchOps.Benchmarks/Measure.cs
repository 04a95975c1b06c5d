using System.Diagnostics;

namespace BatchOps.Benchmarks;

/// <summary>Timing and memory sampling helpers (Stopwatch, GC and working-set sampling).</summary>
public static class Measure
{
    public static async Task<TimeSpan> TimeAsync(Func<Task> work)
    {
        var clock = Stopwatch.StartNew();
        await work();
        return clock.Elapsed;
    }

    /// <summary>
    /// Runs the work while sampling the managed heap (with garbage) and the working set every 10 ms, and the
    /// live heap (after a full collection) every 100 ms; returns the peaks.
    /// </summary>
    public static async Task<(TimeSpan Elapsed, long PeakHeap, long PeakLiveHeap, long PeakWorkingSet)> WithMemoryAsync(Func<Task> work)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long peakHeap = GC.GetTotalMemory(false);
        long peakLive = peakHeap;
        long peakSet = Environment.WorkingSet;
        using var done = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            for (var sample = 0; !done.IsCancellationRequested; sample++)
            {
                peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(false));
                if (sample % 10 == 9)
                {
                    peakLive = Math.Max(peakLive, GC.GetTotalMemory(true));
                }

                peakSet = Math.Max(peakSet, Environment.WorkingSet);
                try
                {
                    await Task.Delay(10, done.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });
        var elapsed = await TimeAsync(work);
        await done.CancelAsync();
        await sampler;
        return (elapsed, peakHeap, peakLive, peakSet);
    }
}
