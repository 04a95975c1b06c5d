namespace BatchOps.Engine.Jobs;

/// <summary>
/// Which names say their value is a secret: a header, an environment variable, a $using: variable. One rule
/// for the dry run's masking and for which $using: strings are never stored.
/// </summary>
public static class SecretNames
{
    private static readonly string[] Exact = ["Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie"];
    private static readonly string[] Parts = ["token", "secret", "password", "passwd", "apikey", "api-key", "api_key", "credential", "signature"];

    /// <summary>True for Authorization and cookies, and any name that mentions a token, secret, password, API key, credential or signature.</summary>
    public static bool IsSecret(string name) =>
        Exact.Contains(name, StringComparer.OrdinalIgnoreCase) || Parts.Any(part => name.Contains(part, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// For a PowerShell variable: <see cref="IsSecret"/>, or a name that mentions a key ($using:key,
    /// $using:sshKey, $using:accessKey). A variable that merely mentions "key" and is no secret can be
    /// stored on purpose with -PersistUsing.
    /// </summary>
    public static bool IsSecretVariable(string name) => IsSecret(name) || name.Contains("key", StringComparison.OrdinalIgnoreCase);
}
