using System.Net;
using System.Text;
using System.Text.Json;
using BatchOps.Operations.Spec;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Store;

namespace BatchOps.Operations;

/// <summary>
/// Sends one HTTP request per item. 2xx is success with the response body as the output; 408, 429 and
/// 5xx fail retryably and honour Retry-After; other 4xx fail without retry. Item values are encoded for
/// where they land (<see cref="PlaceholderEncoding"/>): the url by RFC 6570, a JSON or form text body by
/// its Content-Type, header values checked for line breaks and added through the validating API.
/// </summary>
public sealed partial class HttpOperation : CompiledOperation
{
    private const int BodyExcerpt = 2000;
    private const string ContentTypeHeader = "Content-Type";

    private static readonly HttpClient Client = new(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        AutomaticDecompression = DecompressionMethods.All,
    })
    {
        // The engine's per-attempt timeout governs; HttpClient's own would fire as an unclassified error.
        Timeout = Timeout.InfiniteTimeSpan,
    };

    private readonly OperationSpec _spec;
    private readonly HttpMethod _method;
    private readonly Template _url;
    private readonly (string Name, Template Value)[] _headers;
    private readonly string? _contentType;
    private readonly Template? _textBody;
    private readonly JsonTemplate? _jsonBody;
    private readonly string? _idempotencyHeader;

    /// <summary>The header that carries the item's idempotency key unless the spec names another or none.</summary>
    public const string DefaultIdempotencyHeader = "Idempotency-Key";

    private HttpOperation(OperationSpec spec, string where)
    {
        _spec = spec;
        _method = new HttpMethod(spec.Method!);
        _url = Template.Parse(spec.Url!, $"{where}.url", PlaceholderEncoding.Url);
        _headers = (spec.Headers ?? []).Select(h => (h.Key, Template.Parse(h.Value, $"{where}.headers.{h.Key}"))).ToArray();
        _contentType = ContentTypeOf(spec);
        // A header the spec sets itself wins over the automatic one.
        var idempotency = spec.IdempotencyHeader ?? DefaultIdempotencyHeader;
        _idempotencyHeader = idempotency.Length == 0 || _headers.Any(h => string.Equals(h.Name, idempotency, StringComparison.OrdinalIgnoreCase)) ? null : idempotency;
        if (spec.Body is { ValueKind: JsonValueKind.String } text)
        {
            _textBody = Template.Parse(text.GetString()!, $"{where}.body", BodyEncoding(_contentType));
        }
        else if (spec.Body is { } json)
        {
            _jsonBody = new JsonTemplate(json, $"{where}.body");
        }
    }

    public override string Kind => OperationSpec.Http;

    public override string Definition => JsonSerializer.Serialize(_spec, StoreJson.Options);

    internal static HttpOperation Compile(OperationSpec spec, string where)
    {
        foreach (var (value, field) in new (object?, string)[] { (spec.Command, "command"), (spec.Args, "args"), (spec.WorkingDirectory, "workingDirectory"), (spec.Env, "env"), (spec.AllowShellPlaceholders, "allowShellPlaceholders") })
        {
            if (value is not null)
            {
                throw new JobSpecException($"{where}: \"{field}\" belongs to kind \"exec\", not \"http\"; remove it or change the kind.");
            }
        }

        if (string.IsNullOrWhiteSpace(spec.Url))
        {
            throw new JobSpecException($"{where}: \"url\" is required for kind \"http\".");
        }

        var method = string.IsNullOrWhiteSpace(spec.Method) ? "GET" : spec.Method.Trim().ToUpperInvariant();
        if (!method.All(char.IsAsciiLetterUpper))
        {
            throw new JobSpecException($"{where}: \"method\" \"{spec.Method}\" is not an HTTP method; use GET, POST, PUT, PATCH, DELETE….");
        }

        var template = Template.Parse(spec.Url, $"{where}.url", PlaceholderEncoding.Url);
        if (ContentTypeOf(spec) is { } contentType && Template.Parse(contentType, where).HasPlaceholders)
        {
            throw new JobSpecException($"{where}: headers.{ContentTypeHeader} decides how item values are encoded into the body, so it cannot hold a placeholder; write the media type itself (for example \"application/json\").");
        }

        if (!template.HasPlaceholders && !Uri.TryCreate(spec.Url, UriKind.Absolute, out _))
        {
            throw new JobSpecException($"{where}: \"url\" \"{spec.Url}\" is not an absolute URL.");
        }

        if (spec.IdempotencyHeader is { Length: > 0 } header && !header.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            throw new JobSpecException($"{where}: \"idempotencyHeader\" \"{header}\" is not a header name; use letters, digits and dashes (or \"\" to send none).");
        }

        return new HttpOperation(new OperationSpec { Kind = OperationSpec.Http, Method = method, Url = spec.Url, Headers = spec.Headers, Body = spec.Body, IdempotencyHeader = spec.IdempotencyHeader }, where);
    }

    public override void Validate(JsonElement item, long index)
    {
        _url.Validate(item, index, IsUndo);
        // An undo's url may be made from the forward output ({output.id}), known only when it runs.
        var url = IsUndo ? null : _url.Render(item, index);
        if (url is not null && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)))
        {
            throw new JobSpecException($"Item {index}: the url \"{url}\" made from {_url.Where} is not an absolute http(s) URL.{(_url.HasPlaceholders ? " Item values are percent-encoded in a url; a placeholder that carries a whole URL or a path needs {+name} (reserved expansion)." : string.Empty)}");
        }

        foreach (var (_, value) in _headers)
        {
            value.Validate(item, index, IsUndo);
        }

        _textBody?.Validate(item, index, IsUndo);
        _jsonBody?.Validate(item, index, IsUndo);
    }

    /// <summary>The request line, its headers (secret ones masked) and its body.</summary>
    public override IReadOnlyList<string>? Render(JsonElement item, in ItemContext at)
    {
        var context = at;
        var lines = new List<string> { $"{_method} {Shown(() => RenderUrl(item, context))}" };
        lines.AddRange(_headers.Select(h => $"{h.Name}: {(Engine.Jobs.SecretNames.IsSecret(h.Name) ? Secrets.Mask : Shown(() => CheckedHeaderValue(h.Name, h.Value, item, context)))}"));
        if (_idempotencyHeader is not null)
        {
            lines.Add($"{_idempotencyHeader}: {context.IdempotencyKey}");
        }

        if (_jsonBody is not null)
        {
            lines.Add("Content-Type: application/json");
            lines.Add(_jsonBody.Render(item, context));
        }
        else if (_textBody is not null)
        {
            if (_contentType is null)
            {
                lines.Add($"{ContentTypeHeader}: text/plain");
            }

            lines.Add(_textBody.Render(item, context));
        }

        return lines;
    }

    protected override async Task<string?> RunItemAsync(JsonElement item, ItemContext context, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(_method, RenderUrl(item, context));
        if (_jsonBody is not null)
        {
            request.Content = new StringContent(_jsonBody.Render(item, context), Encoding.UTF8, "application/json");
        }
        else if (_textBody is not null)
        {
            request.Content = new StringContent(_textBody.Render(item, context), Encoding.UTF8, "text/plain");
        }

        if (_idempotencyHeader is not null)
        {
            request.Headers.TryAddWithoutValidation(_idempotencyHeader, context.IdempotencyKey);
        }

        foreach (var (name, template) in _headers)
        {
            var value = CheckedHeaderValue(name, template, item, context);
            if (template.HasPlaceholders)
            {
                AddValidated(request, name, value);
            }
            else if (!request.Headers.TryAddWithoutValidation(name, value))
            {
                request.Content ??= new ByteArrayContent([]);
                request.Content.Headers.Remove(name);
                request.Content.Headers.TryAddWithoutValidation(name, value);
            }
        }

        using var response = await Client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return body;
        }

        var code = (int)response.StatusCode;
        var excerpt = body.Length > BodyExcerpt ? body[..BodyExcerpt] : body;
        throw new BatchOperationException(
            $"{_method} {request.RequestUri} answered {code} {response.ReasonPhrase}.",
            isRetryable: HttpFailure.IsRetryable(code),
            retryAfter: HttpFailure.RetryAfterOf(response, DateTimeOffset.UtcNow),
            detail: excerpt.Length == 0 ? null : excerpt)
        {
            ErrorType = HttpFailure.ErrorType,
            StatusCode = code,
        };
    }
}
