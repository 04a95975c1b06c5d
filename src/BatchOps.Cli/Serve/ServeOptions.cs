using System.Net;
using System.Net.NetworkInformation;

namespace BatchOps.Cli.Serve;

/// <summary>How <c>batchops serve</c> listens and who may talk to it.</summary>
/// <param name="Urls">Where to listen (semicolon-separated, as ASP.NET Core takes them).</param>
/// <param name="Token">
/// Every API request must carry it (<c>Authorization: Bearer TOKEN</c>, or the cookie the page gets for
/// it). Null only with --no-token, which loopback binds alone may use.
/// </param>
/// <param name="ReadOnly">Refuse every state-changing request (405).</param>
public sealed record ServeOptions(string Urls, string? Token, bool ReadOnly)
{
    /// <summary>Where the server listens unless told otherwise: this machine only.</summary>
    public const string DefaultUrls = "http://127.0.0.1:5178";

    /// <summary>The largest request body accepted (413 beyond).</summary>
    public const long MaxBodyBytes = 1024 * 1024;

    /// <summary>Host names (or addresses) besides those of <see cref="Urls"/> that requests may name in their Host header (--allowed-hosts).</summary>
    public IReadOnlyList<string> AllowedHosts { get; init; } = [];

    /// <summary>Refuse posted specs (POST /api/jobs, 405) while still allowing cancel, resume, retry and delete (--no-run).</summary>
    public bool NoRun { get; init; }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the problem and the fix: a URL that is not http(s) with a
    /// host, or one reachable from other machines without a token.
    /// </summary>
    public void Validate()
    {
        foreach (var uri in Addresses())
        {
            if (Token is null && !IsLoopback(uri.Host))
            {
                throw new ArgumentException(
                    $"--urls: '{uri.OriginalString}' can be reached from other machines, so the server needs a token: leave out --no-token (a token is made for you), or pass --token TOKEN (or set BATCHOPS_TOKEN), and give clients 'Authorization: Bearer TOKEN'. To stay on this machine, listen on 127.0.0.1.");
            }
        }
    }

    /// <summary>Whether every address listened on is a loopback one (127.0.0.0/8, ::1, localhost).</summary>
    public bool IsLoopbackOnly => Addresses().All(uri => IsLoopback(uri.Host));

    /// <summary>
    /// The names a request's Host header may carry: the loopback names and addresses for a loopback bind, the
    /// host names of <see cref="Urls"/>, this machine's names and addresses for a wildcard bind (0.0.0.0,
    /// [::], *, +), and <see cref="AllowedHosts"/>. A page whose own name resolves to this machine (DNS
    /// rebinding) carries its own name, and is refused.
    /// </summary>
    public HashSet<string> HostNames()
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "localhost", "127.0.0.1", "::1" };
        foreach (var url in Split())
        {
            var host = HostOf(url);
            if (host is "*" or "+" or "0.0.0.0" or "::")
            {
                names.UnionWith(MachineNames());
            }
            else
            {
                names.Add(host);
            }
        }

        names.UnionWith(AllowedHosts.Select(h => h.Trim().Trim('[', ']')).Where(h => h.Length > 0));
        return names;
    }

    private IEnumerable<string> Split() => Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private IEnumerable<Uri> Addresses()
    {
        foreach (var url in Split())
        {
            // ASP.NET Core takes http://*:8080 and http://+:8080, which Uri does not; they are wildcard binds.
            var parsed = url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);
            if (!Uri.TryCreate(parsed, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                throw new ArgumentException($"--urls: '{url}' is not an http:// or https:// address with a host and port, for example {DefaultUrls}.");
            }

            yield return uri;
        }
    }

    private static string HostOf(string url)
    {
        var rest = url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var host = rest.StartsWith('[') ? rest[1..rest.IndexOf(']', StringComparison.Ordinal)] : rest.Split([':', '/'], 2)[0];
        return host;
    }

    private static IEnumerable<string> MachineNames()
    {
        yield return Environment.MachineName;
        yield return Dns.GetHostName();
        foreach (var address in NetworkInterface.GetAllNetworkInterfaces().SelectMany(i => i.GetIPProperties().UnicastAddresses))
        {
            yield return address.Address.ToString();
        }
    }

    internal static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
}
