namespace Djag.Worker;

/// <summary>
/// Ends a run as a failure with exactly this message as its error (other exceptions are reported as
/// "Type: message"). Throw it for failures that are outcomes, not bugs: a non-zero exit code, an HTTP status.
/// </summary>
public class TaskFailedException : Exception
{
    public TaskFailedException()
    {
    }

    public TaskFailedException(string message)
        : base(message)
    {
    }

    public TaskFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The run's arguments do not fit what the task expects; the message names the argument.</summary>
public sealed class TaskArgumentException : TaskFailedException
{
    public TaskArgumentException()
    {
    }

    public TaskArgumentException(string message)
        : base(message)
    {
    }

    public TaskArgumentException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
