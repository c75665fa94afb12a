namespace Djag.Cli;

/// <summary>What a command may touch outside itself: its two streams and the clock. Tests pass their own.</summary>
internal sealed record CliConsole(TextWriter Out, TextWriter Error, TimeProvider Time)
{
    /// <summary>Reports bad input and returns <see cref="ExitCodes.BadInput"/>.</summary>
    public int BadInput(string message)
    {
        Error.WriteLine($"error: {message}");
        return ExitCodes.BadInput;
    }

    /// <summary>Reports a failed operation and returns <see cref="ExitCodes.Failed"/>.</summary>
    public int Failed(string message)
    {
        Error.WriteLine($"error: {message}");
        return ExitCodes.Failed;
    }
}

internal static class ExitCodes
{
    public const int Ok = 0;

    public const int Failed = 1;

    /// <summary>A bad file, flag or cron expression: nothing was attempted.</summary>
    public const int BadInput = 2;
}
