using System.Collections;
using System.Text.Json;

namespace BatchOps.Cli.Spec;

/// <summary>
/// The items of a JSON Lines file, read from the file each time they are enumerated (one line at a time),
/// so a file of any size is checked and recorded in bounded memory. Blank lines are skipped; a line that is
/// not JSON is a <see cref="JobSpecException"/> naming the file and the line.
/// </summary>
public sealed class JsonLinesItems : IReadOnlyCollection<JsonElement>
{
    private readonly string _file;

    private JsonLinesItems(string file, int count)
    {
        _file = file;
        Count = count;
    }

    /// <summary>The number of items, counted when the file was first read.</summary>
    public int Count { get; }

    /// <summary>Reads the file once, handing each item to <paramref name="check"/> with its index, and counts the items.</summary>
    public static JsonLinesItems Open(string file, Action<JsonElement, long> check)
    {
        ArgumentNullException.ThrowIfNull(check);
        var count = 0;
        foreach (var item in Read(file))
        {
            check(item, count++);
        }

        return new JsonLinesItems(file, count);
    }

    public IEnumerator<JsonElement> GetEnumerator() => Read(_file).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static IEnumerable<JsonElement> Read(string file)
    {
        var number = 0;
        foreach (var line in File.ReadLines(file))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            JsonElement item;
            try
            {
                using var document = JsonDocument.Parse(line);
                item = document.RootElement.Clone();
            }
            catch (JsonException error)
            {
                throw new JobSpecException($"{file}, line {number}: not a JSON value ({error.Message}). Each line of an items file holds one JSON value.", error);
            }

            yield return item;
        }
    }
}
