using System.Globalization;
using System.Text;
using System.Text.Json;
using NJsonSchema;
using NJsonSchema.Validation;

namespace BatchOps.Operations.Spec;

/// <summary>
/// A spec's "itemSchema": a JSON Schema (checked by NJsonSchema) that every item must match before anything
/// is created. Violations are worded for the person fixing the items: <c>item 17: /price: must be &gt;= 0.01</c>,
/// the location as a JSON Pointer into the item.
/// </summary>
internal sealed class ItemSchema
{
    /// <summary>How many violations an error lists; the rest are counted.</summary>
    public const int Listed = 20;

    private readonly JsonSchema _schema;
    private readonly List<string> _violations = [];
    private long _invalidItems;
    private long _allViolations;

    private ItemSchema(JsonSchema schema) => _schema = schema;

    /// <summary>The schema the spec gives (an object inline, or a string naming a file beside the spec); null when it gives none.</summary>
    public static ItemSchema? Load(JsonElement? spec, string folder, string where)
    {
        if (spec is not { } value || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        try
        {
            var schema = value.ValueKind switch
            {
                JsonValueKind.Object or JsonValueKind.True or JsonValueKind.False => JsonSchema.FromJsonAsync(value.GetRawText()).GetAwaiter().GetResult(),
                JsonValueKind.String => JsonSchema.FromFileAsync(SchemaFile(value.GetString()!, folder, where)).GetAwaiter().GetResult(),
                _ => throw new JobSpecException($"{where}: \"itemSchema\" must be a JSON Schema object, or the path of a schema file relative to the spec."),
            };
            return new ItemSchema(schema);
        }
        catch (Exception error) when (error is Newtonsoft.Json.JsonException or InvalidOperationException or NotSupportedException or IOException)
        {
            throw new JobSpecException($"{where}: \"itemSchema\" is not a usable JSON Schema: {error.Message}", error);
        }
    }

    /// <summary>Checks one item and keeps what it violates (the first <see cref="Listed"/> violations are kept whole); false when it violates any.</summary>
    public bool Check(JsonElement item, long index)
    {
        var errors = _schema.Validate(item.GetRawText());
        if (errors.Count == 0)
        {
            return true;
        }

        _invalidItems++;
        foreach (var error in Flatten(errors))
        {
            _allViolations++;
            if (_violations.Count < Listed)
            {
                _violations.Add($"item {index}: {Pointer(error.Path)}: {Describe(error)}");
            }
        }

        return false;
    }

    /// <summary>Every violation of one item, in one line ("/price: must be >= 0.01; /sku: is required"); null when it matches.</summary>
    public string? Explain(JsonElement item)
    {
        var errors = _schema.Validate(item.GetRawText());
        return errors.Count == 0 ? null : string.Join("; ", Flatten(errors).Select(e => $"{Pointer(e.Path)}: {Describe(e)}"));
    }

    /// <summary>The errors to show: an array element's own errors instead of "array item not valid" around them.</summary>
    private static IEnumerable<ValidationError> Flatten(IEnumerable<ValidationError> errors) =>
        errors.SelectMany(error => error is ChildSchemaValidationError { Kind: ValidationErrorKind.ArrayItemNotValid or ValidationErrorKind.AdditionalItemNotValid } wrapper
            ? Flatten(wrapper.Errors.Values.SelectMany(e => e))
            : [error]);

    /// <summary>Throws, listing the violations, when any item did not match.</summary>
    public void ThrowIfViolated(string where)
    {
        if (_invalidItems == 0)
        {
            return;
        }

        var message = new StringBuilder().Append(CultureInfo.InvariantCulture,
            $"{where}: {_invalidItems} item(s) do not match \"itemSchema\"; nothing was created. Fix the items (or the schema):");
        foreach (var violation in _violations)
        {
            message.Append(Environment.NewLine).Append("  ").Append(violation);
        }

        if (_allViolations > _violations.Count)
        {
            message.Append(Environment.NewLine).Append(CultureInfo.InvariantCulture, $"  (the first {Listed} of {_allViolations} violations are listed)");
        }

        throw new JobSpecException(message.ToString());
    }

    private static string SchemaFile(string path, string folder, string where)
    {
        var full = Path.GetFullPath(Path.Combine(folder, path));
        return File.Exists(full)
            ? full
            : throw new JobSpecException($"{where}: \"itemSchema\" '{full}' does not exist (paths are relative to the spec file).");
    }

    /// <summary>NJsonSchema's path ("#/address.city", "#/tags[2]") as a JSON Pointer into the item ("/address/city", "/tags/2").</summary>
    internal static string Pointer(string? path)
    {
        var pointer = (path ?? "#").TrimStart('#').Replace(".", "/", StringComparison.Ordinal).Replace("[", "/", StringComparison.Ordinal).Replace("]", string.Empty, StringComparison.Ordinal);
        return pointer.Length == 0 ? "(the item)" : pointer.StartsWith('/') ? pointer : "/" + pointer;
    }

    private static string Describe(ValidationError error)
    {
        var schema = error.Schema;
        return error.Kind switch
        {
            ValidationErrorKind.PropertyRequired => "is required",
            ValidationErrorKind.NoAdditionalPropertiesAllowed => "is not allowed (the schema has no such field)",
            ValidationErrorKind.NumberTooSmall => schema?.ExclusiveMinimum is { } exclusive ? $"must be > {Number(exclusive)}"
                : schema?.IsExclusiveMinimum == true ? $"must be > {Number(schema.Minimum)}" : $"must be >= {Number(schema?.Minimum)}",
            ValidationErrorKind.NumberTooBig => schema?.ExclusiveMaximum is { } exclusive ? $"must be < {Number(exclusive)}"
                : schema?.IsExclusiveMaximum == true ? $"must be < {Number(schema.Maximum)}" : $"must be <= {Number(schema?.Maximum)}",
            ValidationErrorKind.StringExpected => "must be a string",
            ValidationErrorKind.NumberExpected => "must be a number",
            ValidationErrorKind.IntegerExpected => "must be an integer",
            ValidationErrorKind.BooleanExpected => "must be true or false",
            ValidationErrorKind.ObjectExpected => "must be an object",
            ValidationErrorKind.ArrayExpected => "must be an array",
            ValidationErrorKind.NullExpected => "must be null",
            ValidationErrorKind.StringTooShort => $"must be at least {schema?.MinLength} character(s)",
            ValidationErrorKind.StringTooLong => $"must be at most {schema?.MaxLength} character(s)",
            ValidationErrorKind.PatternMismatch => $"must match the pattern {schema?.Pattern}",
            ValidationErrorKind.NotInEnumeration => $"must be one of {string.Join(", ", schema?.Enumeration.Select(v => JsonSerializer.Serialize(v)) ?? [])}",
            ValidationErrorKind.TooFewItems => $"must have at least {schema?.MinItems} item(s)",
            ValidationErrorKind.TooManyItems => $"must have at most {schema?.MaxItems} item(s)",
            ValidationErrorKind.ItemsNotUnique => "must not repeat items",
            _ => Words(error.Kind.ToString()),
        };
    }

    private static string Number(decimal? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "?";

    /// <summary>"DateTimeExpected" as "date time expected".</summary>
    private static string Words(string name) =>
        string.Concat(name.Select((c, i) => i > 0 && char.IsUpper(c) ? " " + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
