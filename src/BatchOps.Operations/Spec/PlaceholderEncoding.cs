namespace BatchOps.Operations.Spec;

/// <summary>
/// How a template encodes the item values it fills in, chosen by where the template stands: item data is
/// untrusted, so a value must never become structure (a path segment, a query parameter, a JSON field, a
/// form field) of what it is inserted into.
/// </summary>
public enum PlaceholderEncoding
{
    /// <summary>
    /// Inserted as is: exec arguments and environment (one argv element each, never parsed by BatchOps),
    /// header values (checked for line breaks when sent), bodies of other content types, item keys.
    /// </summary>
    Raw,

    /// <summary>
    /// A URL (RFC 6570): <c>{x}</c> percent-encodes every character outside the unreserved set, so
    /// <c>/ ? # &amp; =</c> stay data; <c>{+x}</c> keeps reserved characters (the template trusts the value
    /// with a path or a whole URL).
    /// </summary>
    Url,

    /// <summary>A JSON text body: each value is JSON string content, escaped, and must stand inside quotes.</summary>
    JsonString,

    /// <summary>An application/x-www-form-urlencoded body: each value is percent-encoded as a form value.</summary>
    Form,
}
