using System.Text.Json;
using BatchOps.Operations;
using BatchOps.Operations.Spec;
using BatchOps.Testing;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using FsCheck;
using FsCheck.Fluent;

namespace BatchOps.Operations.Tests.Templates;

/// <summary>
/// Item data is untrusted: whatever an item holds, what a real server parses back from the request is the
/// item's value in the place the template meant, and no extra path segment, query parameter, JSON field,
/// form field or header. Each property runs against a real Kestrel server on 127.0.0.1.
/// </summary>
public sealed class UntrustedItemDataTests : IAsyncLifetime
{
    private const int Cases = 150;
    private RecordingServer _server = null!;

    public async Task InitializeAsync() => _server = await RecordingServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static CompiledOperation Http(string url, Dictionary<string, string>? headers = null, string? body = null, string method = "POST") =>
        OperationFactory.Compile(
            new OperationSpec { Kind = "http", Method = method, Url = url, Headers = headers, Body = body is null ? null : JsonSerializer.SerializeToElement(body), IdempotencyHeader = string.Empty },
            Environment.CurrentDirectory,
            "operation");

    private static JsonElement Item(string value) => JsonSerializer.SerializeToElement(new { v = value });

    /// <summary>Runs one item; the requests that arrived, and the error when the item failed.</summary>
    private async Task<(RecordingServer.Received[] Arrived, BatchOperationException? Error)> SendAsync(CompiledOperation operation, string value)
    {
        _server.Requests.Clear();
        BatchOperationException? error = null;
        try
        {
            await operation.ToBatchOperation("job1").PerItemOperation!(new BatchItem<JsonElement>(0, Item(value)), CancellationToken.None);
        }
        catch (BatchOperationException failed)
        {
            error = failed;
        }

        return ([.. _server.Requests], error);
    }

    private (RecordingServer.Received[] Arrived, BatchOperationException? Error) Send(CompiledOperation operation, string value) =>
        Task.Run(() => SendAsync(operation, value)).GetAwaiter().GetResult();

    private static bool RefusedWhole(RecordingServer.Received[] arrived, BatchOperationException? error) =>
        arrived.Length == 0 && error is { IsRetryable: false } && error.Message.Contains("answered 400", StringComparison.Ordinal);

    private static void Check(Func<string, bool> property) =>
        Prop.ForAll(UntrustedValues.Any, property).Check(Config.QuickThrowOnFailure.WithMaxTest(Cases));

    [Fact]
    public void UrlPathSegment_AnyValue_ArrivesAsThatOneSegment_OrTheItemFailsWithNothingSent()
    {
        var operation = Http($"{_server.BaseUrl}/users/{{v}}/profile");
        Check(value =>
        {
            var (arrived, error) = Send(operation, value);
            if (value is "." or "..")
            {
                return arrived.Length == 0 && error?.ErrorType == HttpOperation.InvalidUrlValue;
            }

            if (value.Contains('\0'))
            {
                // Sent as %00; Kestrel refuses a NUL in a path outright (400): nothing reached the handler.
                return RefusedWhole(arrived, error);
            }

            return error is null && arrived.Length == 1 && arrived[0].PathSegments is ["users", var segment, "profile"] && segment == value && arrived[0].Query.Count == 0;
        });
    }

    [Fact]
    public void UrlQueryValue_AnyValue_ArrivesAsThatParameter_AndAddsNone()
    {
        var operation = Http($"{_server.BaseUrl}/search?q={{v}}&page=1");
        Check(value =>
        {
            var (arrived, error) = Send(operation, value);
            return error is null && arrived.Length == 1
                && arrived[0].PathSegments is ["search"]
                && arrived[0].Query.Keys.Order().SequenceEqual(["page", "q"])
                && arrived[0].Query["q"] is [var q] && q == value
                && arrived[0].Query["page"] is ["1"];
        });
    }

    [Fact]
    public void JsonTextBody_AnyValue_ArrivesAsThatStringField_AndAddsNone()
    {
        var operation = Http($"{_server.BaseUrl}/users", new() { ["Content-Type"] = "application/json" }, "{{\"name\": \"{v}\", \"admin\": false}}");
        Check(value =>
        {
            var (arrived, error) = Send(operation, value);
            if (error is not null || arrived.Length != 1)
            {
                return false;
            }

            using var body = JsonDocument.Parse(arrived[0].Body);
            var fields = body.RootElement.EnumerateObject().ToList();
            return fields.Count == 2 && fields[0].Name == "name" && fields[0].Value.GetString() == value
                && fields[1].Name == "admin" && fields[1].Value.ValueKind == JsonValueKind.False;
        });
    }

    [Fact]
    public void FormBody_AnyValue_ArrivesAsThatFormField_AndAddsNone()
    {
        var operation = Http($"{_server.BaseUrl}/form", new() { ["Content-Type"] = "application/x-www-form-urlencoded" }, "name={v}&role=user");
        Check(value =>
        {
            var (arrived, error) = Send(operation, value);
            if (value.Contains('\0'))
            {
                // Sent as %00; ASP.NET Core's form reader refuses a form with a NUL in it.
                return RefusedWhole(arrived, error);
            }

            return error is null && arrived.Length == 1 && arrived[0].Form is { } form
                && form.Keys.Order().SequenceEqual(["name", "role"])
                && form["name"] is [var name] && name == value
                && form["role"] is ["user"];
        });
    }

    [Fact]
    public void HeaderValue_AnyValue_ArrivesAsThatOneHeader_OrTheItemFailsWithNothingSent()
    {
        var operation = Http($"{_server.BaseUrl}/tag", new() { ["X-Tag"] = "{v}" }, method: "GET");
        var baseline = Send(Http($"{_server.BaseUrl}/tag", new() { ["X-Tag"] = "fixed" }, method: "GET"), "x").Arrived.Single().Headers.Keys.ToHashSet(StringComparer.OrdinalIgnoreCase);
        Check(value =>
        {
            var (arrived, error) = Send(operation, value);
            if (value.Any(c => c is < ' ' and not '\t' or > '~'))
            {
                // CR, LF, NUL, other controls and non-ASCII cannot travel in a header: failed before sending.
                return arrived.Length == 0 && error?.ErrorType == HttpOperation.InvalidHeaderValue && !error.Message.Contains(value, StringComparison.Ordinal);
            }

            // A header value loses its leading and trailing blanks on the wire (RFC 9110 OWS), nothing else.
            return error is null && arrived.Length == 1
                && arrived[0].Headers["X-Tag"] is [var tag] && tag == value.Trim(' ', '\t')
                && arrived[0].Headers.Keys.ToHashSet(StringComparer.OrdinalIgnoreCase).SetEquals(baseline);
        });
    }

    [Fact]
    public void ReservedExpansion_KeepsSlashes_ForSpecsThatMeanItemsToChoosePaths()
    {
        var operation = Http($"{_server.BaseUrl}/files/{{+v}}");
        var (arrived, error) = Send(operation, "a/b c/d");

        Assert.Null(error);
        Assert.Equal(["files", "a", "b c", "d"], Assert.Single(arrived).PathSegments);
    }
}
