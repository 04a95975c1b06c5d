using System.Net;

namespace BatchOps.Cli.Serve;

/// <summary>How <c>batchops serve</c> listens and who may talk to it.</summary>
/// <param name="Urls">Where to listen (semicolon-separated, as ASP.NET Core takes them).</param>
/// <param name="Token">When set, every request must carry <c>Authorization: Bearer TOKEN</c>.</param>
/// <param name="ReadOnly">Refuse every state-changing request (405).</param>
public sealed record ServeOptions(string Urls, string? Token, bool ReadOnly)
{
    /// <summary>Where the server listens unless told otherwise: this machine only.</summary>
    public const string DefaultUrls = "http://127.0.0.1:5178";

    /// <summary>The largest request body accepted (413 beyond).</summary>
    public const long MaxBodyBytes = 1024 * 1024;

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the problem and the fix: a URL that is not http(s) with a
    /// host, or one reachable from other machines without a token.
    /// </summary>
    public void Validate()
    {
        foreach (var url in Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                throw new ArgumentException($"--urls: '{url}' is not an http:// or https:// address with a host and port, for example {DefaultUrls}.");
            }

            if (Token is null && !IsLoopback(uri.Host))
            {
                throw new ArgumentException(
                    $"--urls: '{url}' can be reached from other machines, so the server needs a token: pass --token TOKEN (or set BATCHOPS_TOKEN), and give clients 'Authorization: Bearer TOKEN'. To stay on this machine, listen on 127.0.0.1.");
            }
        }
    }

    private static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
}
