namespace BatchOps.Operations;

/// <summary>How a dry run shows a header or environment variable whose name says secret (<see cref="Engine.Jobs.SecretNames"/>).</summary>
internal static class Secrets
{
    public const string Mask = "***";
}
