using BatchOps.Engine.Store;

namespace BatchOps.Engine.Jobs;

/// <summary>The end of a durable run: the job as stored afterwards, and what this run did.</summary>
/// <param name="Job">The job re-read from the store, with counts over all its items.</param>
/// <param name="Run">Totals of this run only.</param>
public sealed record JobRunResult(JobRecord Job, JobSummary Run);
