using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Numerics;
using System.Text.Json;

namespace BatchOps.PowerShell.Tables;

/// <summary>
/// Piped objects to JSON rows and back. A row is a JSON object of the object's properties (a hashtable's
/// keys); values keep their JSON type where there is one, dates become ISO 8601 text, and anything else
/// its string form, which the sql operation converts to the column's type. Read on the pipeline thread:
/// script properties need its runspace.
/// </summary>
internal static class JsonRows
{
    private const int MaxDepth = 16;

    public static JsonElement FromObject(PSObject row)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteObject(writer, row, 0);
        }

        var reader = new Utf8JsonReader(buffer.WrittenSpan);
        return JsonElement.ParseValue(ref reader);
    }

    /// <summary>A stored row as PowerShell shows it: a PSCustomObject of its fields (numbers as long, decimal or double).</summary>
    public static object? ToObject(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => ToPSObject(value),
        JsonValueKind.Array => value.EnumerateArray().Select(ToObject).ToArray(),
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number when value.TryGetInt64(out var whole) => whole,
        JsonValueKind.Number when value.TryGetDecimal(out var exact) => exact,
        JsonValueKind.Number => value.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    private static PSObject ToPSObject(JsonElement value)
    {
        var row = new PSObject();
        foreach (var property in value.EnumerateObject())
        {
            row.Properties.Add(new PSNoteProperty(property.Name, ToObject(property.Value)));
        }

        return row;
    }

    private static void WriteObject(Utf8JsonWriter writer, PSObject row, int depth)
    {
        writer.WriteStartObject();
        if (row.BaseObject is IDictionary dictionary)
        {
            foreach (DictionaryEntry entry in dictionary)
            {
                writer.WritePropertyName(Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? string.Empty);
                WriteValue(writer, entry.Value, depth + 1);
            }
        }
        else
        {
            foreach (var property in row.Properties)
            {
                if (property.IsGettable)
                {
                    writer.WritePropertyName(property.Name);
                    WriteValue(writer, property.Value, depth + 1);
                }
            }
        }

        writer.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter writer, object? value, int depth)
    {
        var wrapped = value as PSObject;
        var bare = wrapped?.BaseObject ?? value;
        switch (bare)
        {
            case null or DBNull:
                writer.WriteNullValue();
                break;
            case string text:
                writer.WriteStringValue(text);
                break;
            case bool flag:
                writer.WriteBooleanValue(flag);
                break;
            case byte or sbyte or short or ushort or int or uint or long:
                writer.WriteNumberValue(Convert.ToInt64(bare, CultureInfo.InvariantCulture));
                break;
            case ulong large:
                writer.WriteNumberValue(large);
                break;
            case decimal exact:
                writer.WriteNumberValue(exact);
                break;
            case double or float when Convert.ToDouble(bare, CultureInfo.InvariantCulture) is var real && double.IsFinite(real):
                writer.WriteNumberValue(real);
                break;
            case BigInteger big:
                writer.WriteRawValue(big.ToString(CultureInfo.InvariantCulture));
                break;
            case DateTime time:
                writer.WriteStringValue(time.ToString("O", CultureInfo.InvariantCulture));
                break;
            case DateTimeOffset time:
                writer.WriteStringValue(time.ToString("O", CultureInfo.InvariantCulture));
                break;
            case byte[] bytes:
                writer.WriteBase64StringValue(bytes);
                break;
            case IDictionary or PSCustomObject when depth < MaxDepth:
                WriteObject(writer, wrapped ?? PSObject.AsPSObject(bare), depth);
                break;
            case IEnumerable sequence when depth < MaxDepth:
                writer.WriteStartArray();
                foreach (var element in sequence)
                {
                    WriteValue(writer, element, depth + 1);
                }

                writer.WriteEndArray();
                break;
            default:
                writer.WriteStringValue(Convert.ToString(bare, CultureInfo.InvariantCulture));
                break;
        }
    }
}
