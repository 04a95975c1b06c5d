using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace BatchOps.Cli.Serve;

/// <summary>
/// The checks every request passes before a route, a page or the event stream sees it, in this order:
/// <list type="number">
/// <item>The Host header names this server (<see cref="ServeOptions.HostNames"/>), else 400: a page whose own
/// name was made to resolve to 127.0.0.1 (DNS rebinding) sends its own name and gets nothing.</item>
/// <item>The token (when the server has one): <c>Authorization: Bearer TOKEN</c>, or the HttpOnly
/// SameSite=Strict cookie that <c>/?token=TOKEN</c> trades it for; only the page's own files are served
/// without it. Compared in constant time.</item>
/// <item>Body size, read-only mode, --no-run, and for state changes an Origin that is itself an allowed
/// host and this server's own origin.</item>
/// </list>
/// </summary>
internal sealed class ApiGuard(ServeOptions options)
{
    /// <summary>The query parameter of the URL that <c>batchops serve</c> prints to open the page.</summary>
    public const string TokenParameter = "token";

    /// <summary>Where the page trades a token typed at its prompt for the cookie (a sign-in, allowed in read-only mode too).</summary>
    public const string SessionPath = "/api/session";

    private readonly byte[]? _token = options.Token is null ? null : Encoding.UTF8.GetBytes(options.Token);
    private readonly HashSet<string> _hosts = options.HostNames();

    /// <summary>The cookie that carries the token for the page: one per port, as browsers keep cookies per host, not per port.</summary>
    public static string CookieName(HttpContext context) => $"batchops_token_{context.Connection.LocalPort}";

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        if (!IsAllowedHost(request.Host.Host))
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, "Unknown host",
                $"This server answers only to the names it listens on ({string.Join(", ", _hosts.Order(StringComparer.Ordinal).Take(6))}); a page of another name cannot reach it. To use another name, start it with --allowed-hosts NAME.").ConfigureAwait(false);
            return;
        }

        if (_token is not null && await TradeTokenForCookieAsync(context).ConfigureAwait(false))
        {
            return;
        }

        if (_token is not null && !DashboardPage.IsPageFile(request) && !HasToken(context))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await Problems.WriteAsync(context, StatusCodes.Status401Unauthorized, "A token is required", "Open the URL that batchops serve printed (it carries the token once), or send 'Authorization: Bearer TOKEN'.").ConfigureAwait(false);
            return;
        }

        if (request.ContentLength > ServeOptions.MaxBodyBytes)
        {
            await Problems.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "The request body is too large", $"Request bodies are limited to {ServeOptions.MaxBodyBytes:N0} bytes.").ConfigureAwait(false);
            return;
        }

        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            if (options.ReadOnly && !request.Path.Equals(SessionPath, StringComparison.OrdinalIgnoreCase))
            {
                await Problems.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, "The server is read-only", "It was started with --read-only; start it without to change jobs.").ConfigureAwait(false);
                return;
            }

            if (request.Headers.Origin is { Count: > 0 } origin && !IsOwnOrigin(origin.ToString(), request))
            {
                await Problems.WriteAsync(context, StatusCodes.Status403Forbidden, "Foreign origin", $"Requests that change jobs are accepted only from pages of this server, not from '{origin}'.").ConfigureAwait(false);
                return;
            }

            if (options.NoRun && HttpMethods.IsPost(request.Method) && request.Path.Equals("/api/jobs", StringComparison.OrdinalIgnoreCase))
            {
                await Problems.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, "Posted specs are switched off", "This server was started with --no-run: it does not create and run jobs from posted specs. Run them with batchops run, or start the server without --no-run.").ConfigureAwait(false);
                return;
            }
        }

        await next(context).ConfigureAwait(false);
    }

    /// <summary>Session sign-in: <c>POST /api/session</c> with the bearer token (the page's prompt) sets the cookie too.</summary>
    public static void SetCookie(HttpContext context, string token) =>
        context.Response.Cookies.Append(CookieName(context), token, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps,
            Path = "/",
        });

    /// <summary>
    /// <c>GET /?token=TOKEN</c>, the URL batchops serve prints: with the right token, the cookie and a redirect
    /// to <c>/</c>, so the token leaves the address bar and the history; with a wrong one, 401.
    /// </summary>
    private async Task<bool> TradeTokenForCookieAsync(HttpContext context)
    {
        var request = context.Request;
        if (!HttpMethods.IsGet(request.Method) || request.Path != "/" || !request.Query.TryGetValue(TokenParameter, out var offered))
        {
            return false;
        }

        if (!Matches(offered.ToString()))
        {
            await Problems.WriteAsync(context, StatusCodes.Status401Unauthorized, "Wrong token", "The token in the address is not this server's. Open the URL that batchops serve printed when it started.").ConfigureAwait(false);
            return true;
        }

        SetCookie(context, options.Token!);
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.Location = "/";
        context.Response.StatusCode = StatusCodes.Status303SeeOther;
        return true;
    }

    /// <summary>A listed name, or a loopback address literal (127.0.0.0/8, ::1): no page of another site can send those.</summary>
    private bool IsAllowedHost(string host)
    {
        var bare = host.Trim('[', ']');
        return bare.Length > 0 && (_hosts.Contains(bare) || (System.Net.IPAddress.TryParse(bare, out var address) && System.Net.IPAddress.IsLoopback(address)));
    }

    private bool HasToken(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return Matches(header[scheme.Length..].Trim());
        }

        return context.Request.Cookies.TryGetValue(CookieName(context), out var cookie) && Matches(cookie);
    }

    private bool Matches(string offered) => CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(offered), _token);

    /// <summary>An Origin that names an allowed host and is this server's own scheme, host and port; "null" and anything unparsable are foreign.</summary>
    private bool IsOwnOrigin(string origin, HttpRequest request) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && _hosts.Contains(uri.Host.Trim('[', ']'))
        && string.Equals(origin, $"{request.Scheme}://{request.Host}", StringComparison.OrdinalIgnoreCase);
}
