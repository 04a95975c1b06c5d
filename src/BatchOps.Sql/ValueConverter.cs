using System.Globalization;
using System.Net;
using System.Text.Json;

namespace BatchOps.Sql;

/// <summary>
/// Converts an item's field to the column's value. Strings are parsed (items read from CSV carry only
/// strings); an empty string is null for every column that is not text. Failures name the value and
/// what the column wants, for example <c>'abc' is not a number</c>.
/// </summary>
internal static class ValueConverter
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>The value to write, or null for SQL NULL; throws <see cref="FormatException"/> with the reason.</summary>
    public static object? Convert(JsonElement value, ColumnKind kind)
    {
        if (value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            return null;
        }

        if (kind is ColumnKind.Text)
        {
            return value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                _ => value.GetRawText(),
            };
        }

        if (kind is ColumnKind.Any)
        {
            return value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number => value.TryGetInt64(out var whole) ? whole : value.GetDouble(),
                JsonValueKind.True => 1L,
                JsonValueKind.False => 0L,
                _ => value.GetRawText(),
            };
        }

        if (kind is ColumnKind.Json)
        {
            return value.ValueKind == JsonValueKind.String ? ParseJsonText(value.GetString()!) : value.GetRawText();
        }

        // A string is read once (an ISO 8601 time with an offset not at all: it is parsed from the JSON's bytes).
        string? text = null;
        if (value.ValueKind == JsonValueKind.String)
        {
            if (kind is ColumnKind.TimestampTz && value.TryGetDateTime(out var exact))
            {
                return Utc(exact);
            }

            text = value.GetString()!;
            if (string.IsNullOrWhiteSpace(text))
            {
                return null;
            }
        }

        return kind switch
        {
            ColumnKind.Int16 => checked((short)Integer(value, text, "a whole number from -32768 to 32767", short.MinValue, short.MaxValue)),
            ColumnKind.Int32 => checked((int)Integer(value, text, "a whole number from -2147483648 to 2147483647", int.MinValue, int.MaxValue)),
            ColumnKind.Int64 => Integer(value, text, "a whole number", long.MinValue, long.MaxValue),
            ColumnKind.Single => (float)Real(value, text),
            ColumnKind.Double => Real(value, text),
            ColumnKind.Decimal => Decimal(value, text),
            ColumnKind.Number => SqliteNumber(value, text),
            ColumnKind.Boolean => Boolean(value, text),
            ColumnKind.Uuid => Guid.TryParse(Text(value, text), out var guid) ? guid : throw Bad(value, "a UUID"),
            ColumnKind.Date => DateOnly.TryParse(Text(value, text), Invariant, DateTimeStyles.None, out var date)
                ? date
                : DateTimeOffset.TryParse(Text(value, text), Invariant, DateTimeStyles.None, out var dateTime) ? DateOnly.FromDateTime(dateTime.DateTime) : throw Bad(value, "a date"),
            ColumnKind.Timestamp => Timestamp(value, text),
            ColumnKind.TimestampTz => DateTimeOffset.TryParse(Text(value, text), Invariant, DateTimeStyles.AssumeUniversal, out var moment) ? moment.UtcDateTime : throw Bad(value, "a date and time"),
            ColumnKind.Time => TimeOnly.TryParse(Text(value, text), Invariant, DateTimeStyles.None, out var time) ? time : throw Bad(value, "a time of day"),
            ColumnKind.Bytes => Bytes(value, text),
            ColumnKind.Inet => Inet(value, text),
            _ => throw new InvalidOperationException($"No conversion for {kind}."),
        };
    }

    /// <summary>An integer from a JSON number, a string (<paramref name="text"/>, already read) or a boolean.</summary>
    private static long Integer(JsonElement value, string? text, string wanted, long min, long max)
    {
        long result;
        if (text is not null)
        {
            if (!long.TryParse(text.AsSpan().Trim(), NumberStyles.AllowLeadingSign, Invariant, out result))
            {
                throw Bad(value, wanted);
            }
        }
        else if (value.ValueKind == JsonValueKind.Number)
        {
            if (!value.TryGetInt64(out result))
            {
                throw Bad(value, wanted);
            }
        }
        else if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            result = value.ValueKind == JsonValueKind.True ? 1 : 0;
        }
        else
        {
            throw Bad(value, wanted);
        }

        return result < min || result > max ? throw Bad(value, wanted) : result;
    }

    private static double Real(JsonElement value, string? text) => text is not null
        ? (double.TryParse(text.AsSpan().Trim(), NumberStyles.Float, Invariant, out var parsed) ? parsed : throw Bad(value, "a number"))
        : value.ValueKind == JsonValueKind.Number ? value.GetDouble() : throw Bad(value, "a number");

    private static decimal Decimal(JsonElement value, string? text) => text is not null
        ? (decimal.TryParse(text.AsSpan().Trim(), NumberStyles.Float, Invariant, out var parsed) ? parsed : throw Bad(value, "a number"))
        : value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var number) ? number : throw Bad(value, "a number");

    private static object SqliteNumber(JsonElement value, string? text)
    {
        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return value.ValueKind == JsonValueKind.True ? 1L : 0L;
        }

        var digits = text is not null ? text.AsSpan().Trim() : value.ValueKind == JsonValueKind.Number ? value.GetRawText().AsSpan() : throw Bad(value, "a number");
        if (long.TryParse(digits, NumberStyles.AllowLeadingSign, Invariant, out var whole))
        {
            return whole;
        }

        return double.TryParse(digits, NumberStyles.Float, Invariant, out var real) ? real : throw Bad(value, "a number");
    }

    private static bool Boolean(JsonElement value, string? text)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            case JsonValueKind.Number when value.TryGetInt64(out var number) && number is 0 or 1:
                return number == 1;
            case JsonValueKind.String:
                switch (text!.Trim().ToUpperInvariant())
                {
                    case "TRUE" or "T" or "YES" or "Y" or "1":
                        return true;
                    case "FALSE" or "F" or "NO" or "N" or "0":
                        return false;
                }

                break;
        }

        throw Bad(value, "true or false");
    }

    /// <summary>timestamp with time zone, as UTC: a time without an offset is taken as UTC.</summary>
    private static DateTime Utc(DateTime exact) => exact.Kind switch
    {
        DateTimeKind.Utc => exact,
        DateTimeKind.Local => exact.ToUniversalTime(),
        _ => DateTime.SpecifyKind(exact, DateTimeKind.Utc),
    };

    private static DateTime Timestamp(JsonElement value, string? text)
    {
        // timestamp without time zone: the wall-clock time as written; a time with an offset or Z is taken as UTC.
        if (!DateTime.TryParse(Text(value, text), Invariant, DateTimeStyles.RoundtripKind, out var parsed))
        {
            throw Bad(value, "a date and time");
        }

        return DateTime.SpecifyKind(parsed.Kind == DateTimeKind.Unspecified ? parsed : parsed.ToUniversalTime(), DateTimeKind.Unspecified);
    }

    /// <summary>An IP address, or an address with a prefix length ("10.0.0.0/24").</summary>
    private static object Inet(JsonElement value, string? raw)
    {
        var text = Text(value, raw);
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (IPAddress.TryParse(slash < 0 ? text : text[..slash], out var address))
        {
            if (slash < 0)
            {
                return address;
            }

            if (byte.TryParse(text[(slash + 1)..], NumberStyles.None, Invariant, out var prefix) && prefix <= (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128))
            {
                return new NpgsqlTypes.NpgsqlInet(address, prefix);
            }
        }

        throw Bad(value, "an IP address");
    }

    private static byte[] Bytes(JsonElement value, string? text)
    {
        if (text is not null)
        {
            try
            {
                return System.Convert.FromBase64String(text);
            }
            catch (FormatException)
            {
                // reported below
            }
        }

        throw Bad(value, "base64 text");
    }

    private static string ParseJsonText(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return text;
        }
        catch (JsonException)
        {
            return JsonSerializer.Serialize(text);
        }
    }

    /// <summary>The value as text to parse: the string (already read), trimmed, or the JSON as written.</summary>
    private static string Text(JsonElement value, string? text) => text?.Trim() ?? value.GetRawText();

    private static FormatException Bad(JsonElement value, string wanted) => new($"{Show(value)} is not {wanted}");

    private static string Show(JsonElement value)
    {
        var text = value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
        return text.Length > 60 ? $"'{text[..57]}...'" : $"'{text}'";
    }
}
