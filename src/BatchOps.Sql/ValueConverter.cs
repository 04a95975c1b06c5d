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

        if (value.ValueKind == JsonValueKind.String && string.IsNullOrWhiteSpace(value.GetString()))
        {
            return null;
        }

        return kind switch
        {
            ColumnKind.Int16 => checked((short)Integer(value, "a whole number from -32768 to 32767", short.MinValue, short.MaxValue)),
            ColumnKind.Int32 => checked((int)Integer(value, "a whole number from -2147483648 to 2147483647", int.MinValue, int.MaxValue)),
            ColumnKind.Int64 => Integer(value, "a whole number", long.MinValue, long.MaxValue),
            ColumnKind.Single => (float)Real(value),
            ColumnKind.Double => Real(value),
            ColumnKind.Decimal => Decimal(value),
            ColumnKind.Number => SqliteNumber(value),
            ColumnKind.Boolean => Boolean(value),
            ColumnKind.Uuid => Guid.TryParse(Text(value), out var guid) ? guid : throw Bad(value, "a UUID"),
            ColumnKind.Date => DateOnly.TryParse(Text(value), Invariant, DateTimeStyles.None, out var date)
                ? date
                : DateTimeOffset.TryParse(Text(value), Invariant, DateTimeStyles.None, out var dateTime) ? DateOnly.FromDateTime(dateTime.DateTime) : throw Bad(value, "a date"),
            ColumnKind.Timestamp => Timestamp(value),
            ColumnKind.TimestampTz => TimestampTz(value),
            ColumnKind.Time => TimeOnly.TryParse(Text(value), Invariant, DateTimeStyles.None, out var time) ? time : throw Bad(value, "a time of day"),
            ColumnKind.Bytes => Bytes(value),
            ColumnKind.Inet => Inet(value),
            _ => throw new InvalidOperationException($"No conversion for {kind}."),
        };
    }

    private static long Integer(JsonElement value, string wanted, long min, long max)
    {
        long result;
        if (value.ValueKind == JsonValueKind.Number)
        {
            if (!value.TryGetInt64(out result))
            {
                throw Bad(value, wanted);
            }
        }
        else if (value.ValueKind == JsonValueKind.String)
        {
            if (!long.TryParse(value.GetString()!.Trim(), NumberStyles.AllowLeadingSign, Invariant, out result))
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

    private static double Real(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => value.GetDouble(),
        JsonValueKind.String when double.TryParse(value.GetString()!.Trim(), NumberStyles.Float, Invariant, out var parsed) => parsed,
        _ => throw Bad(value, "a number"),
    };

    private static decimal Decimal(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number when value.TryGetDecimal(out var number) => number,
        JsonValueKind.String when decimal.TryParse(value.GetString()!.Trim(), NumberStyles.Float, Invariant, out var parsed) => parsed,
        _ => throw Bad(value, "a number"),
    };

    private static object SqliteNumber(JsonElement value)
    {
        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return value.ValueKind == JsonValueKind.True ? 1L : 0L;
        }

        var text = value.ValueKind switch
        {
            JsonValueKind.Number => value.GetRawText(),
            JsonValueKind.String => value.GetString()!.Trim(),
            _ => throw Bad(value, "a number"),
        };
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, Invariant, out var whole))
        {
            return whole;
        }

        return double.TryParse(text, NumberStyles.Float, Invariant, out var real) ? real : throw Bad(value, "a number");
    }

    private static bool Boolean(JsonElement value)
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
                switch (value.GetString()!.Trim().ToUpperInvariant())
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

    /// <summary>timestamp with time zone, as UTC; ISO 8601 with an offset is read straight from the JSON, anything else parsed as text (no offset: UTC).</summary>
    private static DateTime TimestampTz(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.String && value.TryGetDateTime(out var exact))
        {
            return exact.Kind switch
            {
                DateTimeKind.Utc => exact,
                DateTimeKind.Local => exact.ToUniversalTime(),
                _ => DateTime.SpecifyKind(exact, DateTimeKind.Utc),
            };
        }

        return DateTimeOffset.TryParse(Text(value), Invariant, DateTimeStyles.AssumeUniversal, out var moment) ? moment.UtcDateTime : throw Bad(value, "a date and time");
    }

    private static DateTime Timestamp(JsonElement value)
    {
        // timestamp without time zone: the wall-clock time as written; a time with an offset or Z is taken as UTC.
        if (!DateTime.TryParse(Text(value), Invariant, DateTimeStyles.RoundtripKind, out var parsed))
        {
            throw Bad(value, "a date and time");
        }

        return DateTime.SpecifyKind(parsed.Kind == DateTimeKind.Unspecified ? parsed : parsed.ToUniversalTime(), DateTimeKind.Unspecified);
    }

    /// <summary>An IP address, or an address with a prefix length ("10.0.0.0/24").</summary>
    private static object Inet(JsonElement value)
    {
        var text = Text(value).Trim();
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

    private static byte[] Bytes(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            try
            {
                return System.Convert.FromBase64String(value.GetString()!);
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

    private static string Text(JsonElement value) => value.ValueKind == JsonValueKind.String ? value.GetString()!.Trim() : value.GetRawText();

    private static FormatException Bad(JsonElement value, string wanted) => new($"{Show(value)} is not {wanted}");

    private static string Show(JsonElement value)
    {
        var text = value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
        return text.Length > 60 ? $"'{text[..57]}...'" : $"'{text}'";
    }
}
