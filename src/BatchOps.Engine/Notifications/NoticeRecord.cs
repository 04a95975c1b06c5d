namespace BatchOps.Engine.Notifications;

/// <summary>Where a notice of one job end to one target stands.</summary>
public enum NoticeStatus
{
    /// <summary>Claimed by a sender that has not recorded the outcome yet (its claim expires: then it is due again).</summary>
    Sending = 0,

    /// <summary>Sent: never sent again for this end.</summary>
    Sent = 1,

    /// <summary>Every attempt failed; the error says why. <c>batchops notify --pending --failed</c> tries again.</summary>
    Failed = 2,
}

/// <summary>One notice: the job, the target (its position in the job's list), the end it is about, and its state.</summary>
public sealed record NoticeRecord
{
    /// <summary>The job.</summary>
    public required string JobId { get; init; }

    /// <summary>The target's position in <see cref="Store.JobRecord.Notify"/>, from 0.</summary>
    public required int Target { get; init; }

    /// <summary>When the job ended, the end this notice is about (a job that is resumed and ends again sends again).</summary>
    public required DateTimeOffset EndedAt { get; init; }

    /// <summary>Sending, Sent or Failed.</summary>
    public required NoticeStatus Status { get; init; }

    /// <summary>Attempts made so far, over every sender.</summary>
    public int Attempts { get; init; }

    /// <summary>The last failure's message; null when none failed.</summary>
    public string? Error { get; init; }

    /// <summary>When the state was last written.</summary>
    public DateTimeOffset UpdatedAt { get; init; }
}
