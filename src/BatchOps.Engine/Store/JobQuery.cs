using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Store;

/// <summary>Filters for listing jobs; every filter is optional and they combine with AND.</summary>
public sealed record JobQuery
{
    /// <summary>Exact job id.</summary>
    public string? Id { get; init; }

    /// <summary>Name pattern with * and ? wildcards, case-insensitive.</summary>
    public string? Name { get; init; }

    /// <summary>Statuses to keep (Interrupted is derived, and matches Running jobs whose owner is gone).</summary>
    public IReadOnlyCollection<JobStatus>? Statuses { get; init; }

    /// <summary>Keep jobs carrying this tag.</summary>
    public string? Tag { get; init; }

    /// <summary>Keep jobs created at or after this time.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Skip the newest N matches first (paging: with <see cref="Newest"/>, one page of the list).</summary>
    public int? Skip { get; init; }

    /// <summary>Keep only the newest N (by creation time), after <see cref="Skip"/>.</summary>
    public int? Newest { get; init; }

    /// <summary>
    /// <see cref="Name"/> as a SQL LIKE pattern with escape character \ (* becomes %, ? becomes _, and
    /// %, _ and \ match themselves); null without a name filter.
    /// </summary>
    public string? NameLikePattern
    {
        get
        {
            if (Name is null)
            {
                return null;
            }

            var like = new System.Text.StringBuilder(Name.Length + 4);
            foreach (var c in Name)
            {
                like.Append(c switch
                {
                    '*' => "%",
                    '?' => "_",
                    '%' or '_' or '\\' => "\\" + c,
                    _ => c.ToString(),
                });
            }

            return like.ToString();
        }
    }

    /// <summary>The same filters without paging: what <see cref="IJobStore.CountJobsAsync"/> counts.</summary>
    public JobQuery Unpaged => this with { Skip = null, Newest = null };
}
