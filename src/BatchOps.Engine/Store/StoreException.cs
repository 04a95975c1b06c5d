namespace BatchOps.Engine.Store;

/// <summary>The store cannot be used as asked; the message says what is wrong and how to fix it.</summary>
public class StoreException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StoreException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public StoreException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public StoreException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Whether the disk (or the database's space) holding the store is full: what was being written was not kept.</summary>
    public bool DiskFull { get; init; }
}
