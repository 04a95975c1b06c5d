using BatchOps.Engine.Store;

namespace BatchOps.Engine.Notifications;

/// <summary>
/// Sends the notices of a job's end (<see cref="JobRecord.Notify"/>), each once: claimed in the store before it
/// is sent and recorded sent after, so a notice whose sender died is sent by the next one to look (a resume,
/// a worker, <c>batchops notify --pending</c>) and a notice recorded sent is never sent again. Never throws
/// for a target that fails: that is recorded on the job and reported.
/// </summary>
public interface IJobNotifier
{
    /// <summary>Sends what is due for <paramref name="job"/>'s last end; returns what happened to each target it handled.</summary>
    Task<IReadOnlyList<NoticeRecord>> NotifyAsync(IJobStore store, JobRecord job, CancellationToken cancellationToken = default);
}
