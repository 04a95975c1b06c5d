namespace BatchOps.Engine.Tests.Support;

/// <summary>Runs a task on a fake clock, jumping from timer to timer until the task completes.</summary>
public static class TimeSkipper
{
    public static async Task<T> RunAsync<T>(FakeTimeProvider time, Func<Task<T>> start)
    {
        var task = start();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!task.IsCompleted)
        {
            Assert.True(DateTime.UtcNow < deadline, "The run did not finish within 30 s of real time on the fake clock.");
            // A real millisecond between jumps lets continuations woken by the last timer run first.
            time.AdvanceToNextTimer();
            await Task.Delay(1);
        }

        return await task;
    }
}
