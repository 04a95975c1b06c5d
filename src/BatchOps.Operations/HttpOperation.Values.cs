using System.Net.Http.Headers;
using System.Text.Json;
using BatchOps.Operations.Spec;
using BatchOps.Engine.Execution;

namespace BatchOps.Operations;

/// <summary>Where item values meet the request: the url's path segments, a text body's encoding, header values.</summary>
public sealed partial class HttpOperation
{
    /// <summary>The error type of an item whose header value, filled from the item, holds CR, LF or NUL or does not parse as that header; nothing was sent.</summary>
    public const string InvalidHeaderValue = "InvalidHeaderValue";

    /// <summary>The error type of an item whose values fill a whole url path segment with '.' or '..'; nothing was sent.</summary>
    public const string InvalidUrlValue = "InvalidUrlValue";

    private static string? ContentTypeOf(OperationSpec spec) =>
        spec.Headers?.FirstOrDefault(h => string.Equals(h.Key, ContentTypeHeader, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>How a text body's placeholders are encoded, by its Content-Type: JSON string content, form values, or as is.</summary>
    private static PlaceholderEncoding BodyEncoding(string? contentType)
    {
        if (contentType is null || !MediaTypeHeaderValue.TryParse(contentType, out var parsed) || parsed.MediaType is not { } media)
        {
            return PlaceholderEncoding.Raw;
        }

        if (media.Equals("application/json", StringComparison.OrdinalIgnoreCase) || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase))
        {
            return PlaceholderEncoding.JsonString;
        }

        return media.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) ? PlaceholderEncoding.Form : PlaceholderEncoding.Raw;
    }

    /// <summary>
    /// The url for an item. Simple expansion keeps / ? # &amp; = as data, but a value of "." or ".." that
    /// fills a whole path segment cannot be encoded away: every URL parser (System.Uri too) reads %2E%2E as
    /// "..", so the request would climb to another path. Such an item fails before anything is sent.
    /// </summary>
    private string RenderUrl(JsonElement item, in ItemContext context)
    {
        var url = _url.Render(item, context);
        if (_url.HasPlaceholders && !_url.HasReservedExpansion && HasDotSegment(url))
        {
            throw new BatchOperationException(
                $"The url made from {_url.Where} has a '.' or '..' path segment made of the item's values ({string.Join(", ", _url.Placeholders)}), which a server reads as another path; nothing was sent. Correct the item, or write {{+field}} if the spec means items to choose paths.",
                isRetryable: false)
            { ErrorType = InvalidUrlValue };
        }

        return url;
    }

    private static bool HasDotSegment(string url)
    {
        var authority = url.IndexOf("://", StringComparison.Ordinal);
        var start = url.IndexOf('/', authority < 0 ? 0 : authority + 3);
        if (start < 0)
        {
            return false;
        }

        var end = url.IndexOfAny(['?', '#'], start);
        var path = end < 0 ? url[start..] : url[start..end];
        return path.Split('/').Any(segment => Uri.UnescapeDataString(segment) is "." or "..");
    }

    /// <summary>
    /// A header value for an item. One filled from item data that holds CR, LF or NUL would end the header and
    /// start another (request splitting): the item fails before anything is sent. Messages name the header,
    /// never its value, which may be a secret.
    /// </summary>
    private static string CheckedHeaderValue(string name, Template template, JsonElement item, in ItemContext context)
    {
        var value = template.Render(item, context);
        if (!template.HasPlaceholders)
        {
            return value;
        }

        if (value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
        {
            throw InvalidHeader(name, "holds a line break or NUL, which would split the request");
        }

        // HTTP/1.1 field values are visible ASCII, space and tab; HttpClient refuses anything else only once it sends.
        if (value.AsSpan().ContainsAnyExcept(HeaderCharacters))
        {
            throw InvalidHeader(name, "holds a control character or a character outside ASCII, which a header cannot carry");
        }

        return value;
    }

    private static readonly System.Buffers.SearchValues<char> HeaderCharacters =
        System.Buffers.SearchValues.Create("\t !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    private static BatchOperationException InvalidHeader(string name, string why) =>
        new($"Header '{name}' made from the item's values {why}; nothing was sent. Correct the item's value.", isRetryable: false) { ErrorType = InvalidHeaderValue };

    /// <summary>Adds a header filled from an item through the validating API: a request header, or a content header such as Content-Language.</summary>
    private static void AddValidated(HttpRequestMessage request, string name, string value)
    {
        try
        {
            try
            {
                request.Headers.Add(name, value);
            }
            catch (InvalidOperationException)
            {
                // A content header, which the request's collection refuses; the spec's value wins over the body's own.
                request.Content ??= new ByteArrayContent([]);
                request.Content.Headers.Remove(name);
                request.Content.Headers.Add(name, value);
            }
        }
        catch (FormatException error)
        {
            throw new BatchOperationException($"Header '{name}' made from the item's values is not a valid value for that header; nothing was sent. Correct the item's value.", isRetryable: false, innerException: error)
            {
                ErrorType = InvalidHeaderValue,
            };
        }
    }

    /// <summary>What a dry run shows for a part that would fail the item: why, since nothing would be sent.</summary>
    private static string Shown(Func<string> render)
    {
        try
        {
            return render();
        }
        catch (BatchOperationException error)
        {
            return $"(the item would fail here and nothing would be sent: {error.Message})";
        }
    }
}
