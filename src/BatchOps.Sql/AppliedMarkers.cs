using System.Data.Common;

namespace BatchOps.Sql;

/// <summary>
/// Rows of the marker table (job id, first and last item index, rows affected) written in the target's
/// own transaction with each chunk. Before applying a chunk, the indexes a committed earlier attempt
/// already covered are left out: a crash between the target's commit and the job store's checkpoint
/// replays the chunk, and the replay applies nothing twice.
/// </summary>
internal static class AppliedMarkers
{
    /// <summary>
    /// The indexes of <paramref name="indexes"/> that committed earlier attempts already applied. With
    /// <paramref name="claim"/> (the rows the chunk will change) and consecutive indexes, the chunk's marker
    /// is written in the same round trip when none were applied (<c>Claimed</c>): it commits or rolls back
    /// with the chunk, like the one <see cref="WriteAsync"/> writes after it.
    /// </summary>
    public static async Task<(HashSet<long> Applied, bool Claimed)> ReadAsync(DbConnection connection, DbTransaction transaction, string table, string jobId, IReadOnlyList<long> indexes, long? claim, CancellationToken cancellationToken)
    {
        var (min, max) = (indexes.Min(), indexes.Max());
        var overlapping = $"FROM {table} WHERE job_id = @job AND first_index <= @max AND last_index >= @min";
        (string, object)[] parameters = [("@job", jobId), ("@min", min), ("@max", max)];
        var claiming = claim is not null && max - min + 1 == indexes.Count;
        var insert = $"INSERT INTO {table} (job_id, first_index, last_index, affected) SELECT @job, @min, @max, @affected WHERE NOT EXISTS (SELECT 1 {overlapping})";
        (string, object)[] insertParameters = [.. parameters, ("@affected", claim ?? 0L)];
        var ranges = new List<(long First, long Last)>();
        if (claiming && connection.CanCreateBatch)
        {
            // One round trip: the read and the conditional marker.
            await using var batch = connection.CreateBatch();
            batch.Transaction = transaction;
            batch.BatchCommands.Add(BatchCommand(batch, $"SELECT first_index, last_index {overlapping}", parameters));
            batch.BatchCommands.Add(BatchCommand(batch, insert, insertParameters));
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await ReadRangesAsync(reader, ranges, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await using (var command = Command(connection, transaction, $"SELECT first_index, last_index {overlapping}", parameters))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                await ReadRangesAsync(reader, ranges, cancellationToken).ConfigureAwait(false);
            }

            if (claiming && ranges.Count == 0)
            {
                await using var command = Command(connection, transaction, insert, insertParameters);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        var applied = new HashSet<long>();
        foreach (var (first, last) in ranges)
        {
            foreach (var index in indexes)
            {
                if (index >= first && index <= last)
                {
                    applied.Add(index);
                }
            }
        }

        return (applied, claiming && ranges.Count == 0);
    }

    private static async Task ReadRangesAsync(DbDataReader reader, List<(long First, long Last)> ranges, CancellationToken cancellationToken)
    {
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            ranges.Add((reader.GetInt64(0), reader.GetInt64(1)));
        }
    }

    /// <summary>Records the applied indexes as contiguous ranges; the first range carries the affected count.</summary>
    public static async Task WriteAsync(DbConnection connection, DbTransaction transaction, string table, string jobId, IReadOnlyList<long> indexes, long affected, CancellationToken cancellationToken)
    {
        var sorted = indexes.Order().ToArray();
        var start = 0;
        for (var i = 1; i <= sorted.Length; i++)
        {
            if (i < sorted.Length && sorted[i] == sorted[i - 1] + 1)
            {
                continue;
            }

            await using var command = Command(connection, transaction, $"INSERT INTO {table} (job_id, first_index, last_index, affected) VALUES (@job, @first, @last, @affected)",
                ("@job", jobId), ("@first", sorted[start]), ("@last", sorted[i - 1]), ("@affected", start == 0 ? affected : 0L));
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            start = i;
        }
    }

    /// <summary>The rows a job has changed so far (for maxAffected across runs).</summary>
    public static async Task<long> AffectedAsync(DbConnection connection, string table, string jobId, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, null, $"SELECT COALESCE(SUM(affected), 0) FROM {table} WHERE job_id = @job", ("@job", jobId));
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static DbBatchCommand BatchCommand(DbBatch batch, string sql, (string Name, object Value)[] parameters)
    {
        var command = batch.CreateBatchCommand();
#pragma warning disable CA2100 // the table name is quoted by the writer; values are parameters
        command.CommandText = sql;
#pragma warning restore CA2100
        Bind(command.Parameters, command.CreateParameter, parameters);
        return command;
    }

    private static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
#pragma warning disable CA2100 // the table name is quoted by the writer; values are parameters
        command.CommandText = sql;
#pragma warning restore CA2100
        Bind(command.Parameters, command.CreateParameter, parameters);
        return command;
    }

    private static void Bind(DbParameterCollection target, Func<DbParameter> create, (string Name, object Value)[] parameters)
    {
        foreach (var (name, value) in parameters)
        {
            var parameter = create();
            parameter.ParameterName = name;
            parameter.Value = value;
            target.Add(parameter);
        }
    }
}
