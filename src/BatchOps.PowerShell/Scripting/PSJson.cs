using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Text.Json;

namespace BatchOps.PowerShell.Scripting;

/// <summary>
/// A PowerShell value as JSON, the way ConvertTo-Json shapes it (objects by their properties, dictionaries by
/// their keys, lists as arrays, dates as ISO 8601), for checking piped items against -ItemSchema. Enums are
/// written by name; deeper than <see cref="MaxDepth"/> a value is written as its string.
/// </summary>
internal static class PSJson
{
    public const int MaxDepth = 10;

    public static JsonElement ToElement(object? value)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, value, 0);
        }

        using var document = JsonDocument.Parse(buffer.ToArray());
        return document.RootElement.Clone();
    }

    /// <summary>
    /// A JSON value as ConvertFrom-Json gives it: objects as PSCustomObjects (properties in order), arrays as
    /// object[], integers as int or long, other numbers as double (decimal when a double would lose digits), strings as strings.
    /// </summary>
    public static object? FromElement(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var result = new PSObject();
                foreach (var property in element.EnumerateObject())
                {
                    result.Properties.Add(new PSNoteProperty(property.Name, FromElement(property.Value)));
                }

                return result;
            case JsonValueKind.Array:
                return element.EnumerateArray().Select(FromElement).ToArray();
            case JsonValueKind.String:
                return element.GetString();
            case JsonValueKind.Number:
                return element.TryGetInt32(out var small) ? small
                    : element.TryGetInt64(out var large) ? large
                    : element.TryGetDouble(out var real) && real.ToString("R", CultureInfo.InvariantCulture) == element.GetRawText() ? real
                    : element.TryGetDecimal(out var exact) ? exact : element.GetDouble();
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            default:
                return null;
        }
    }

    /// <summary>What a script block returned, as text to store beside exec and http outputs: a string as it is, anything else as JSON.</summary>
    public static string? ToText(object? value) => ((value as PSObject)?.BaseObject ?? value) switch
    {
        null => null,
        string text => text,
        _ => ToElement(value).GetRawText(),
    };

    private static void Write(Utf8JsonWriter writer, object? value, int depth)
    {
        var wrapped = value as PSObject;
        var bare = wrapped?.BaseObject ?? value;
        switch (bare)
        {
            case null:
                writer.WriteNullValue();
                return;
            case string or char or Guid or Uri or TimeSpan:
                writer.WriteStringValue(Convert.ToString(bare, CultureInfo.InvariantCulture));
                return;
            case bool b:
                writer.WriteBooleanValue(b);
                return;
            case Enum e:
                writer.WriteStringValue(e.ToString());
                return;
            case DateTime d:
                writer.WriteStringValue(d);
                return;
            case DateTimeOffset o:
                writer.WriteStringValue(o);
                return;
            case double or float when !double.IsFinite(Convert.ToDouble(bare, CultureInfo.InvariantCulture)):
                writer.WriteStringValue(Convert.ToString(bare, CultureInfo.InvariantCulture));
                return;
            case byte or sbyte or short or ushort or int or uint or long or ulong or float or double or decimal:
                writer.WriteRawValue(Convert.ToString(bare, CultureInfo.InvariantCulture)!);
                return;
        }

        if (depth >= MaxDepth)
        {
            writer.WriteStringValue(bare.ToString());
            return;
        }

        switch (bare)
        {
            case IDictionary dictionary:
                writer.WriteStartObject();
                foreach (DictionaryEntry entry in dictionary)
                {
                    writer.WritePropertyName(Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? string.Empty);
                    Write(writer, entry.Value, depth + 1);
                }

                writer.WriteEndObject();
                return;
            case IEnumerable list:
                writer.WriteStartArray();
                foreach (var element in list)
                {
                    Write(writer, element, depth + 1);
                }

                writer.WriteEndArray();
                return;
        }

        writer.WriteStartObject();
        foreach (var property in (wrapped ?? PSObject.AsPSObject(bare)).Properties)
        {
            if (!property.IsGettable || property.MemberType is PSMemberTypes.ScriptProperty or PSMemberTypes.CodeProperty)
            {
                continue;
            }

            object? propertyValue;
            try
            {
                propertyValue = property.Value;
            }
            catch (GetValueException)
            {
                continue;
            }

            writer.WritePropertyName(property.Name);
            Write(writer, propertyValue, depth + 1);
        }

        writer.WriteEndObject();
    }
}
