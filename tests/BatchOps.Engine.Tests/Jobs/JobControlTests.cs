using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Engine.Tests.Support;

namespace BatchOps.Engine.Tests.Jobs;

public class JobControlTests
{
    private static async Task<(InMemoryJobStore Store, JobRecord Job)> CreateAsync(TimeProvider? time = null)
    {
        var store = new InMemoryJobStore(time);
        var job = new JobRecord { Id = JobRecord.NewId(), Name = "j", OperationKind = "x", Operation = "{}" };
        await store.CreateJobAsync(job);
        return (store, (await store.GetJobAsync(job.Id))!);
    }

    [Fact]
    public async Task StopAsync_RunningJob_RecordsARequestForItsOwner()
    {
        var (store, job) = await CreateAsync();
        var lease = JobLease.ForCurrentProcess(DateTimeOffset.UtcNow);
        await store.TryAcquireLeaseAsync(job.Id, lease);

        var outcome = await JobControl.StopAsync(store, (await store.GetJobAsync(job.Id))!, StopMode.Forced);

        Assert.Equal(StopOutcome.Requested, outcome);
        Assert.Equal(StopMode.Forced, await store.RenewLeaseAsync(job.Id, lease));
    }

    [Theory]
    [InlineData(JobStatus.Pending, StopOutcome.Cancelled, JobStatus.Cancelled)]
    [InlineData(JobStatus.Completed, StopOutcome.NotRunning, JobStatus.Completed)]
    [InlineData(JobStatus.Failed, StopOutcome.NotRunning, JobStatus.Failed)]
    public async Task StopAsync_JobNotRunning_CancelsOnlyWhatCanStillRun(JobStatus status, StopOutcome expected, JobStatus after)
    {
        var (store, job) = await CreateAsync();
        await store.SetStatusAsync(job.Id, status, null);

        var outcome = await JobControl.StopAsync(store, (await store.GetJobAsync(job.Id))!, StopMode.Graceful);

        Assert.Equal(expected, outcome);
        Assert.Equal(after, (await store.GetJobAsync(job.Id))!.Status);
    }

    [Fact]
    public async Task Wait_RunningJobEnds_ReturnsTheEndedJobAndPollsOnTheCallingThread()
    {
        var time = new FakeTimeProvider();
        var (store, job) = await CreateAsync(time);
        var lease = JobLease.ForCurrentProcess(time.GetUtcNow());
        await store.TryAcquireLeaseAsync(job.Id, lease);
        var caller = Environment.CurrentManagedThreadId;
        var polls = 0;

        var ender = Task.Run(async () =>
        {
            while (Volatile.Read(ref polls) < 3)
            {
                time.Advance(JobControl.PollInterval);
                await Task.Delay(5);
            }

            await store.ReleaseLeaseAsync(job.Id, lease, JobStatus.Completed, null);
            for (var i = 0; i < 200 && !Volatile.Read(ref done); i++)
            {
                time.Advance(JobControl.PollInterval);
                await Task.Delay(5);
            }
        });

        var result = JobControl.Wait(store, (await store.GetJobAsync(job.Id))!, timeout: null, onPoll: _ =>
        {
            Assert.Equal(caller, Environment.CurrentManagedThreadId);
            Interlocked.Increment(ref polls);
        }, time: time);
        Volatile.Write(ref done, true);
        await ender;

        Assert.Equal(JobStatus.Completed, result.Status);
        Assert.True(polls >= 3);
    }

    [Fact]
    public async Task Wait_Timeout_ReturnsTheJobStillRunning()
    {
        var time = new FakeTimeProvider();
        var (store, job) = await CreateAsync(time);
        await store.TryAcquireLeaseAsync(job.Id, JobLease.ForCurrentProcess(time.GetUtcNow()));
        var advancer = Task.Run(async () =>
        {
            for (var i = 0; i < 100 && !Volatile.Read(ref done); i++)
            {
                time.Advance(JobControl.PollInterval);
                await Task.Delay(5);
            }
        });

        var result = JobControl.Wait(store, (await store.GetJobAsync(job.Id))!, timeout: TimeSpan.FromSeconds(2), time: time);
        Volatile.Write(ref done, true);
        await advancer;

        Assert.Equal(JobStatus.Running, result.Status);
    }

    [Fact]
    public async Task RemoveAsync_RefusesARunningJobAndRemovesAnEndedOneWithItsLog()
    {
        var (store, job) = await CreateAsync();
        var lease = JobLease.ForCurrentProcess(DateTimeOffset.UtcNow);
        await store.TryAcquireLeaseAsync(job.Id, lease);
        using var folder = new TempFolder();
        File.WriteAllText(folder.File($"{job.Id}.log"), "x");

        Assert.False(await JobControl.RemoveAsync(store, (await store.GetJobAsync(job.Id))!, folder.Path));
        Assert.NotNull(await store.GetJobAsync(job.Id));

        await store.ReleaseLeaseAsync(job.Id, lease, JobStatus.Completed, null);
        Assert.True(await JobControl.RemoveAsync(store, (await store.GetJobAsync(job.Id))!, folder.Path));
        Assert.Null(await store.GetJobAsync(job.Id));
        Assert.False(File.Exists(folder.File($"{job.Id}.log")));
    }

    [Fact]
    public async Task RemoveAsync_JobThatNeverRanAndNoLogFolder_RemovesTheJob()
    {
        var (store, job) = await CreateAsync();
        using var folder = new TempFolder();

        Assert.True(await JobControl.RemoveAsync(store, job, Path.Combine(folder.Path, "logs-never-written")));

        Assert.Null(await store.GetJobAsync(job.Id));
    }

    private bool done;
}
