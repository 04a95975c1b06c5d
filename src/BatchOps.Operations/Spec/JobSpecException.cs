namespace BatchOps.Operations.Spec;

/// <summary>A job spec file is wrong; the message names the file, the field and the fix. Exit status 2.</summary>
public sealed class JobSpecException : Exception
{
    public JobSpecException()
    {
    }

    public JobSpecException(string message)
        : base(message)
    {
    }

    public JobSpecException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
