namespace BatchOps.Engine.Store;

/// <summary>Finds a job by what a user types: its id, or its name (the newest job with that name).</summary>
public static class JobResolver
{
    /// <summary>The job, or a <see cref="StoreException"/> saying that no job has that id or name.</summary>
    public static async Task<JobRecord> ResolveAsync(IJobStore store, string idOrName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrWhiteSpace(idOrName);
        var byId = await store.GetJobAsync(idOrName, cancellationToken).ConfigureAwait(false);
        if (byId is not null)
        {
            return byId;
        }

        // The name pattern may match more when the name itself holds * or ?; keep the exact matches, newest first.
        var byName = await store.FindJobsAsync(new JobQuery { Name = idOrName }, cancellationToken).ConfigureAwait(false);
        return byName.FirstOrDefault(j => string.Equals(j.Name, idOrName, StringComparison.OrdinalIgnoreCase))
            ?? throw new StoreException($"No job has the id or name '{idOrName}' in '{store.Location}'. List the jobs with 'batchops list' or Get-BatchJob.");
    }
}
