using BatchOps.Engine.Execution;

namespace BatchOps.Sql;

/// <summary>A row that cannot be written as given (a value that does not convert, a missing key); never retried.</summary>
public sealed class SqlRowException : BatchOperationException
{
    /// <summary>Creates the exception; the message names the row, the column and the value.</summary>
    public SqlRowException(string message)
        : base(message, isRetryable: false)
    {
    }

    /// <summary>Creates the exception without a message.</summary>
    public SqlRowException()
        : this("The row cannot be written.")
    {
    }

    /// <summary>Creates the exception wrapping its cause.</summary>
    public SqlRowException(string message, Exception? innerException)
        : base(message, isRetryable: false, innerException: innerException)
    {
    }
}
