namespace BatchOps.Engine.Store;

public sealed partial class SqliteJobStore
{
    /// <summary>Free pages given back per step of incremental vacuum (a short write each).</summary>
    private const int VacuumStep = 2_000;

    /// <inheritdoc/>
    public Task<long> GetJobBytesAsync(string jobId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        return Task.FromResult(Guard(() =>
        {
            using var connection = Connect();
            using var command = connection.CreateCommand();
            command.CommandText =
                "SELECT coalesce((SELECT sum(length(input) + coalesce(length(output), 0) + coalesce(length(key), 0) + coalesce(length(error_message), 0) + coalesce(length(error_detail), 0) + 24) FROM items WHERE job_id = $id), 0) " +
                "+ coalesce((SELECT sum(length(inputs) + coalesce(length(outcomes), 0) + coalesce(length(keys), 0) + 32) FROM item_blocks WHERE job_id = $id), 0) " +
                "+ coalesce((SELECT sum(coalesce(length(error_message), 0) + coalesce(length(error_detail), 0) + 32) FROM item_history WHERE job_id = $id), 0) " +
                "+ coalesce((SELECT sum(length(message) + 40) FROM item_retries WHERE job_id = $id), 0) " +
                "+ coalesce((SELECT length(operation) + length(settings) + 200 FROM jobs WHERE id = $id), 0)";
            command.Parameters.AddWithValue("$id", jobId);
            return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }));
    }

    /// <inheritdoc/>
    public Task<(long Before, long After)> CompactAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(Guard(() =>
        {
            using var connection = Connect();
            Execute(connection, "PRAGMA wal_checkpoint(TRUNCATE)");
            var before = FileBytes();
            if (Scalar(connection, "PRAGMA auto_vacuum") != 2)
            {
                // A store made before incremental vacuum: switching takes one VACUUM (it holds the write lock while
                // it rewrites the file), done only when a quarter of the file is free.
                if (Scalar(connection, "PRAGMA freelist_count") * 4 < Scalar(connection, "PRAGMA page_count"))
                {
                    return (before, before);
                }

                Execute(connection, "PRAGMA auto_vacuum=INCREMENTAL");
                Execute(connection, "VACUUM");
            }

            // Free pages back to the file system a step at a time: a writer waits one step at most.
            while (Scalar(connection, "PRAGMA freelist_count") > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Execute(connection, $"PRAGMA incremental_vacuum({VacuumStep})");
            }

            Execute(connection, "PRAGMA wal_checkpoint(TRUNCATE)");
            return (before, FileBytes());
        }));

    /// <inheritdoc/>
    public Task<long?> GetStoreBytesAsync(CancellationToken cancellationToken = default) => Task.FromResult<long?>(FileBytes());

    private long FileBytes() =>
        new[] { Location, Location + "-wal" }.Where(File.Exists).Sum(path => new FileInfo(path).Length);
}
