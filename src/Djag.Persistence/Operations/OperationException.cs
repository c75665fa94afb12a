namespace Djag.Persistence.Operations;

public enum OperationErrorKind
{
    /// <summary>Bad input: a value the caller can fix (HTTP 400, CLI exit 2).</summary>
    Invalid,

    /// <summary>The named task, run or user does not exist (HTTP 404, CLI exit 2).</summary>
    NotFound,

    /// <summary>The request is valid but the current state refuses it, e.g. retrying a run that succeeded (HTTP 409, CLI exit 1).</summary>
    Conflict,
}

/// <summary>An operation was refused; nothing was saved. <see cref="Field"/> names the input at fault.</summary>
public sealed class OperationException(OperationErrorKind kind, string field, string message) : Exception(message)
{
    public OperationErrorKind Kind { get; } = kind;
    public string Field { get; } = field;

    public static OperationException NotFound(string field, string what) => new(OperationErrorKind.NotFound, field, what);

    public static OperationException Invalid(string field, string message) => new(OperationErrorKind.Invalid, field, message);

    public static OperationException Conflict(string field, string message) => new(OperationErrorKind.Conflict, field, message);
}
