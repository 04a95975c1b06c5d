using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace BatchOps.Cli.Serve;

/// <summary>
/// The checks every request passes before a route sees it: the bearer token (when the server has one), the
/// body size, read-only mode, and the Origin of state-changing requests (a page of another site must not
/// drive the server through a browser that can reach it).
/// </summary>
internal sealed class ApiGuard(ServeOptions options)
{
    private readonly byte[]? _token = options.Token is null ? null : Encoding.UTF8.GetBytes(options.Token);

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        if (_token is not null && !DashboardPage.IsPageFile(request) && !HasToken(request))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await Problems.WriteAsync(context, StatusCodes.Status401Unauthorized, "A token is required", "Send the server's token as 'Authorization: Bearer TOKEN'.").ConfigureAwait(false);
            return;
        }

        if (request.ContentLength > ServeOptions.MaxBodyBytes)
        {
            await Problems.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "The request body is too large", $"Request bodies are limited to {ServeOptions.MaxBodyBytes:N0} bytes.").ConfigureAwait(false);
            return;
        }

        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            if (options.ReadOnly)
            {
                await Problems.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, "The server is read-only", "It was started with --read-only; start it without to change jobs.").ConfigureAwait(false);
                return;
            }

            if (request.Headers.Origin is { Count: > 0 } origin && !IsSameOrigin(origin.ToString(), request))
            {
                await Problems.WriteAsync(context, StatusCodes.Status403Forbidden, "Foreign origin", $"Requests that change jobs are accepted only from pages of this server, not from '{origin}'.").ConfigureAwait(false);
                return;
            }
        }

        await next(context).ConfigureAwait(false);
    }

    private bool HasToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        return header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()), _token);
    }

    private static bool IsSameOrigin(string origin, HttpRequest request) =>
        string.Equals(origin, $"{request.Scheme}://{request.Host}", StringComparison.OrdinalIgnoreCase);
}
