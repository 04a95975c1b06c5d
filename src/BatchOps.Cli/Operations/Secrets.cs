using BatchOps.Engine.Jobs;

namespace BatchOps.Cli.Operations;

/// <summary>Which header and environment variable names hold secrets, so a dry run shows them masked (<see cref="SecretNames"/>).</summary>
internal static class Secrets
{
    public const string Mask = "***";

    /// <summary>True for Authorization and cookies, and any name that mentions a token, secret, password, API key, credential or signature.</summary>
    public static bool IsSecret(string name) => SecretNames.IsSecret(name);
}
