using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Store;

/// <summary>An earlier outcome of an item, kept when the item was reset for a retry.</summary>
public sealed record ItemHistoryEntry(int Run, ItemStatus Status, int Attempts, ItemError? Error, DateTimeOffset? EndedAt);
