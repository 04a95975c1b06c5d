namespace BatchOps.Cli.Operations;

/// <summary>Which header and environment variable names hold secrets, so a dry run shows them masked.</summary>
internal static class Secrets
{
    public const string Mask = "***";

    private static readonly string[] Exact = ["Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie"];
    private static readonly string[] Parts = ["token", "secret", "password", "passwd", "apikey", "api-key", "api_key", "credential", "signature"];

    /// <summary>True for Authorization and cookies, and any name that mentions a token, secret, password, API key, credential or signature.</summary>
    public static bool IsSecret(string name) =>
        Exact.Contains(name, StringComparer.OrdinalIgnoreCase) || Parts.Any(part => name.Contains(part, StringComparison.OrdinalIgnoreCase));
}
