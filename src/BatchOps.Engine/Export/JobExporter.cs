using System.Globalization;
using System.Text;
using System.Text.Json;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

namespace BatchOps.Engine.Export;

/// <summary>
/// Writes a job and its items as JSON (one object: the job, then an array of items) or CSV (one row per
/// item). Items are streamed from the store, so a job of any size exports in constant memory.
/// </summary>
public static class JobExporter
{
    /// <summary>The CSV columns, in order.</summary>
    public static readonly string[] CsvColumns =
        ["index", "key", "status", "attempts", "durationMs", "startedAt", "endedAt", "errorType", "errorMessage", "input", "output"];

    /// <summary>
    /// Writes the job and every item as JSON. Inputs stored as JSON are embedded as JSON, others as strings. A
    /// job that did not keep its outputs (KeepOutput) says so in <c>outputsNotKept</c>.
    /// </summary>
    public static async Task WriteJsonAsync(IJobStore store, JobRecord job, Stream output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(job);
        await using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        writer.WriteStartObject();
        // Serialized to bytes first: JsonSerializer.Serialize(writer, …) flushes the writer synchronously,
        // which a web response (the dashboard's export) does not allow.
        writer.WritePropertyName("job");
        writer.WriteRawValue(JsonSerializer.SerializeToUtf8Bytes(job, StoreJson.Options), skipInputValidation: true);
        if (job.OutputsNotKept() is { } notKept)
        {
            writer.WriteString("outputsNotKept", notKept);
        }

        writer.WriteStartArray("items");
        var jsonInput = string.Equals(job.InputFormat, "json", StringComparison.Ordinal);
        var render = Renderer(job.InputFormat);
        var renderOutput = Renderer(job.OutputFormat);
        await foreach (var item in store.GetItemsAsync(job.Id, ItemQuery.All, cancellationToken).ConfigureAwait(false))
        {
            writer.WriteStartObject();
            writer.WriteNumber("index", item.Index);
            if (job.StageOf(item.Index) is { } stage)
            {
                writer.WriteString("stage", stage.Name);
            }

            WriteStringOrNull(writer, "key", item.Key);
            writer.WriteString("status", item.Status.ToString());
            writer.WriteNumber("attempts", item.Attempts);
            if (item.Duration is { } duration) writer.WriteNumber("durationMs", Math.Round(duration.TotalMilliseconds, 3));
            if (item.StartedAt is { } started) writer.WriteString("startedAt", started);
            if (item.EndedAt is { } ended) writer.WriteString("endedAt", ended);
            writer.WritePropertyName("input");
            if (jsonInput)
            {
                writer.WriteRawValue(item.Input, skipInputValidation: false);
            }
            else
            {
                writer.WriteStringValue(render(item.Input));
            }

            WriteStringOrNull(writer, "output", item.Output is null ? null : renderOutput(item.Output));
            if (item.Error is { } error)
            {
                writer.WritePropertyName("error");
                writer.WriteRawValue(JsonSerializer.SerializeToUtf8Bytes(error, StoreJson.Options), skipInputValidation: true);
            }

            writer.WriteEndObject();
            if (writer.BytesPending > 64 * 1024)
            {
                await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes one CSV row per item (RFC 4180 quoting), with a header row; a staged job's rows end with their stage.</summary>
    public static async Task WriteCsvAsync(IJobStore store, JobRecord job, TextWriter output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(output);
        var staged = job.Stages is not null;
        await output.WriteLineAsync(string.Join(',', staged ? [.. CsvColumns, "stage"] : CsvColumns)).ConfigureAwait(false);
        var row = new StringBuilder();
        var render = Renderer(job.InputFormat);
        var renderOutput = Renderer(job.OutputFormat);
        await foreach (var item in store.GetItemsAsync(job.Id, ItemQuery.All, cancellationToken).ConfigureAwait(false))
        {
            row.Clear();
            AppendCells(row,
                item.Index.ToString(CultureInfo.InvariantCulture),
                item.Key,
                item.Status.ToString(),
                item.Attempts.ToString(CultureInfo.InvariantCulture),
                item.Duration?.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture),
                item.StartedAt?.ToString("O", CultureInfo.InvariantCulture),
                item.EndedAt?.ToString("O", CultureInfo.InvariantCulture),
                item.Error?.Type,
                item.Error?.Message,
                render(item.Input),
                item.Output is null ? null : renderOutput(item.Output));
            if (staged)
            {
                row.Append(',').Append(CsvCell(job.StageOf(item.Index)?.Name));
            }

            await output.WriteLineAsync(row.ToString()).ConfigureAwait(false);
        }

        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Quotes a CSV cell when it holds a comma, quote or line break; also defuses spreadsheet formulas.</summary>
    public static string CsvCell(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return string.Empty;
        }

        if (value[0] is '=' or '+' or '-' or '@' && !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
        {
            value = "'" + value;
        }

        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }

    private static void AppendCells(StringBuilder row, params string?[] cells)
    {
        for (var i = 0; i < cells.Length; i++)
        {
            if (i > 0)
            {
                row.Append(',');
            }

            row.Append(CsvCell(cells[i]));
        }
    }

    private static void WriteStringOrNull(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }

    /// <summary>
    /// How a stored payload reads in an export: CliXml holding a plain value (what PowerShell jobs store for
    /// numbers and strings) shows the value, other CliXml the whole document (Import-Clixml reads it); every
    /// other format is shown as stored.
    /// </summary>
    private static Func<string, string> Renderer(string format) =>
        string.Equals(format, CliXmlPlain.Format, StringComparison.Ordinal)
            ? payload => CliXmlPlain.TryRender(payload) ?? CliXmlPlain.Expand(payload)
            : payload => payload;
}
