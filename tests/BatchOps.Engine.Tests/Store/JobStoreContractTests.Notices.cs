using BatchOps.Engine.Jobs;
using BatchOps.Engine.Notifications;
using BatchOps.Engine.Store;

namespace BatchOps.Engine.Tests.Store;

/// <summary>Notices of a job's end: kept with the job, claimed once, recorded sent once, due again after a new end.</summary>
public abstract partial class JobStoreContractTests
{
    protected static readonly NotificationTarget[] TwoTargets =
    [
        new() { On = [JobStatus.Failed, JobStatus.CompletedWithErrors], Webhook = "env:TEAMS_HOOK", Format = NotificationFormat.Teams },
        new() { On = [JobStatus.Failed], Email = new EmailTarget { To = ["ops@example.test"], Smtp = "env:SMTP" } },
    ];

    /// <summary>A job with <see cref="TwoTargets"/> that ran and ended Failed; returns it as the store reads it back.</summary>
    private static async Task<JobRecord> EndedJobAsync(IJobStore store)
    {
        var job = NewJob("told") with { Notify = TwoTargets };
        await store.CreateJobAsync(job);
        var lease = JobLease.ForCurrentProcess(DateTimeOffset.UtcNow);
        Assert.True(await store.TryAcquireLeaseAsync(job.Id, lease));
        await store.ReleaseLeaseAsync(job.Id, lease, JobStatus.Failed, "it failed");
        return (await store.GetJobAsync(job.Id))!;
    }

    [Fact]
    public async Task Notify_IsKeptWithTheJob()
    {
        using var store = CreateSut();
        var job = await EndedJobAsync(store);

        Assert.Equal(2, job.Notify!.Count);
        Assert.Equal(TwoTargets[0], job.Notify[0] with { On = TwoTargets[0].On });
        Assert.Equal([JobStatus.Failed, JobStatus.CompletedWithErrors], job.Notify[0].On);
        Assert.Equal(["ops@example.test"], job.Notify[1].Email!.To);
        Assert.Equal("env:SMTP", job.Notify[1].Email!.Smtp);
        Assert.Null((await store.GetJobAsync((await CreateAsync(store)).Id))!.Notify);
    }

    private static async Task<JobRecord> CreateAsync(IJobStore store)
    {
        var job = NewJob();
        await store.CreateJobAsync(job);
        return job;
    }

    [Fact]
    public async Task ANotice_IsClaimedByOneSender_SentOnce_AndDueAgainOnlyAfterANewEnd()
    {
        using var store = CreateSut();
        var job = await EndedJobAsync(store);
        var ended = job.EndedAt!.Value;
        Assert.Equal([job.Id], await store.JobsWithNoticesDueAsync(failed: false));

        var claimed = await store.ClaimNoticeAsync(job.Id, 0, ended, TimeSpan.FromMinutes(1), retryFailed: false);
        Assert.Equal((NoticeStatus.Sending, 0), (claimed!.Status, claimed.Attempts));
        Assert.Null(await store.ClaimNoticeAsync(job.Id, 0, ended, TimeSpan.FromMinutes(1), retryFailed: false));
        await store.RecordNoticeAsync(job.Id, 0, ended, sent: true, attempts: 2, error: null);
        Assert.Null(await store.ClaimNoticeAsync(job.Id, 0, ended, TimeSpan.FromMinutes(1), retryFailed: true));

        // The second target is still due; once it is sent, the job is not.
        Assert.Equal([job.Id], await store.JobsWithNoticesDueAsync(failed: false));
        Assert.NotNull(await store.ClaimNoticeAsync(job.Id, 1, ended, TimeSpan.FromMinutes(1), retryFailed: false));
        Assert.Empty(await store.JobsWithNoticesDueAsync(failed: false)); // held by a live claim
        await store.RecordNoticeAsync(job.Id, 1, ended, sent: true, attempts: 1, error: null);
        Assert.Empty(await store.JobsWithNoticesDueAsync(failed: true));

        var notices = await store.GetNoticesAsync(job.Id);
        Assert.Equal([(0, NoticeStatus.Sent, 2), (1, NoticeStatus.Sent, 1)], notices.Select(n => (n.Target, n.Status, n.Attempts)));
        Assert.All(notices, n => Assert.Equal(ended, n.EndedAt));

        // Resumed and ended again: the new end is due, the old one stays sent.
        var lease = JobLease.ForCurrentProcess(DateTimeOffset.UtcNow);
        Assert.True(await store.TryAcquireLeaseAsync(job.Id, lease));
        await Task.Delay(5);
        await store.ReleaseLeaseAsync(job.Id, lease, JobStatus.Failed, "failed again");
        var again = (await store.GetJobAsync(job.Id))!;
        Assert.NotEqual(ended, again.EndedAt);
        Assert.Equal([job.Id], await store.JobsWithNoticesDueAsync(failed: false));
        Assert.NotNull(await store.ClaimNoticeAsync(job.Id, 0, again.EndedAt!.Value, TimeSpan.FromMinutes(1), retryFailed: false));
    }

    [Fact]
    public async Task ANoticeWhoseSenderDied_IsClaimedAgainOnceItsClaimRanOut_AndAFailedOneOnlyWhenFailuresAreRetried()
    {
        using var store = CreateSut();
        var job = await EndedJobAsync(store);
        var ended = job.EndedAt!.Value;

        // A claim that has already run out (the sender died while sending).
        Assert.NotNull(await store.ClaimNoticeAsync(job.Id, 0, ended, TimeSpan.FromSeconds(-1), retryFailed: false));
        Assert.Equal([job.Id], await store.JobsWithNoticesDueAsync(failed: false));
        Assert.NotNull(await store.ClaimNoticeAsync(job.Id, 0, ended, TimeSpan.FromMinutes(1), retryFailed: false));

        await store.RecordNoticeAsync(job.Id, 0, ended, sent: false, attempts: 3, error: "answered 500");
        Assert.Null(await store.ClaimNoticeAsync(job.Id, 0, ended, TimeSpan.FromMinutes(1), retryFailed: false));
        var failed = (await store.GetNoticesAsync(job.Id)).Single(n => n.Target == 0);
        Assert.Equal((NoticeStatus.Failed, 3, "answered 500"), (failed.Status, failed.Attempts, failed.Error));

        var retried = await store.ClaimNoticeAsync(job.Id, 0, ended, TimeSpan.FromMinutes(1), retryFailed: true);
        Assert.Equal((NoticeStatus.Sending, 3), (retried!.Status, retried.Attempts));
        await store.RecordNoticeAsync(job.Id, 0, ended, sent: true, attempts: 1, error: null);
        var sent = (await store.GetNoticesAsync(job.Id)).Single(n => n.Target == 0);
        Assert.Equal((NoticeStatus.Sent, 4, (string?)null), (sent.Status, sent.Attempts, sent.Error));

        Assert.True(await store.RemoveJobAsync(job.Id));
        Assert.Empty(await store.GetNoticesAsync(job.Id));
    }
}
