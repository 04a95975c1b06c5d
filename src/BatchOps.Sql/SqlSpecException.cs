namespace BatchOps.Sql;

/// <summary>A sql operation that cannot run as written: the message names the field or column and the fix.</summary>
public sealed class SqlSpecException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SqlSpecException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception without a message.</summary>
    public SqlSpecException()
    {
    }

    /// <summary>Creates the exception wrapping its cause.</summary>
    public SqlSpecException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
