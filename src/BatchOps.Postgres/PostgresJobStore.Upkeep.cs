using System.Globalization;

namespace BatchOps.Postgres;

public sealed partial class PostgresJobStore
{
    private const string StoreSize =
        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'batchops' AND c.relkind = 'r'";

    /// <inheritdoc/>
    public Task<long?> GetStoreBytesAsync(CancellationToken cancellationToken = default) =>
        GuardAsync<long?>(async () =>
        {
            await using var command = _source.CreateCommand(StoreSize);
            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        });

    /// <inheritdoc/>
    public Task<long> GetJobBytesAsync(string jobId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        return GuardAsync(async () =>
        {
            await using var command = _source.CreateCommand(
                "SELECT coalesce((SELECT sum(octet_length(input) + coalesce(octet_length(output), 0) + coalesce(octet_length(key), 0) + coalesce(octet_length(error_message), 0) + coalesce(octet_length(error_detail), 0) + 40) FROM batchops.items WHERE job_id = $1), 0) " +
                "+ coalesce((SELECT sum(pg_column_size(inputs) + pg_column_size(outputs) + pg_column_size(keys) + pg_column_size(started_at) + pg_column_size(ended_at) + 48) FROM batchops.item_blocks WHERE job_id = $1), 0) " +
                "+ coalesce((SELECT sum(coalesce(octet_length(error_message), 0) + coalesce(octet_length(error_detail), 0) + 40) FROM batchops.item_history WHERE job_id = $1), 0) " +
                "+ coalesce((SELECT sum(octet_length(message) + 48) FROM batchops.item_retries WHERE job_id = $1), 0) " +
                "+ coalesce((SELECT octet_length(operation) + octet_length(settings) + 200 FROM batchops.jobs WHERE id = $1), 0)");
            command.Parameters.Add(new() { Value = jobId });
            return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        });
    }

    /// <inheritdoc/>
    public Task<(long Before, long After)> CompactAsync(CancellationToken cancellationToken = default) =>
        GuardAsync(async () =>
        {
            await using var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var size = new Npgsql.NpgsqlCommand(StoreSize, connection);
            var before = (long)(await size.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;

            // A plain VACUUM: the removed rows' space is reused (and the tables' empty tail given back) without
            // blocking writers; VACUUM FULL, which returns everything, would lock the tables while it rewrites them.
            await using var vacuum = new Npgsql.NpgsqlCommand(
                "VACUUM (ANALYZE) batchops.items, batchops.item_blocks, batchops.item_history, batchops.item_retries, batchops.job_counts, batchops.jobs", connection);
            vacuum.CommandTimeout = 0;
            await vacuum.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            var after = (long)(await size.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            return (before, after);
        });
}
