namespace BatchOps.Engine.Store;

/// <summary>The job is owned by another live process.</summary>
public sealed class JobBusyException : StoreException
{
    /// <summary>Creates the exception.</summary>
    public JobBusyException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public JobBusyException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public JobBusyException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
