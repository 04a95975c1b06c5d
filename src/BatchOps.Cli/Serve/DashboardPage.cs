using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace BatchOps.Cli.Serve;

/// <summary>
/// The dashboard page: HTML, CSS and JavaScript embedded in the assembly and served as they are (no build
/// step, nothing fetched from elsewhere). The files hold no data, so they are served without the token;
/// the page asks for it when the API answers 401.
/// </summary>
internal static class DashboardPage
{
    private static readonly Dictionary<string, (string Resource, string ContentType)> Files = new(StringComparer.Ordinal)
    {
        ["/"] = ("index.html", "text/html; charset=utf-8"),
        ["/app.js"] = ("app.js", "text/javascript; charset=utf-8"),
        ["/app.css"] = ("app.css", "text/css; charset=utf-8"),
    };

    private static readonly Dictionary<string, byte[]> Content = Files.Values.ToDictionary(f => f.Resource, f => Read(f.Resource), StringComparer.Ordinal);

    /// <summary>Whether a request is for one of the page's files.</summary>
    public static bool IsPageFile(HttpRequest request) => HttpMethods.IsGet(request.Method) && Files.ContainsKey(request.Path.Value ?? string.Empty);

    public static void Map(WebApplication app)
    {
        foreach (var (path, (resource, contentType)) in Files)
        {
            app.MapGet(path, (HttpResponse response) =>
            {
                response.Headers.CacheControl = "no-cache";
                response.Headers["X-Content-Type-Options"] = "nosniff";
                response.Headers["Content-Security-Policy"] = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";
                return Results.Bytes(Content[resource], contentType);
            }).ExcludeFromDescription();
        }
    }

    private static byte[] Read(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"BatchOps.Cli.Serve.Page.{name}")
            ?? throw new InvalidOperationException($"The dashboard file {name} is missing from the assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
