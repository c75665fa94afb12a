namespace Djag.Cli;

/// <summary>
/// What a command may touch outside itself: its streams, the clock, the environment, the wait between polls
/// and the HTTP stack. Program passes the process's; tests pass their own, so no test depends on the machine's
/// DJAG_* variables or waits in real time.
/// </summary>
internal sealed record CliConsole(TextWriter Out, TextWriter Error, TimeProvider Time)
{
    /// <summary>Standard input, read by <c>users add --password-stdin</c>.</summary>
    public TextReader In { get; init; } = TextReader.Null;

    /// <summary>Environment variables by name; none by default, Program passes the process's.</summary>
    public Func<string, string?> Environment { get; init; } = _ => null;

    /// <summary>Whether <see cref="Error"/> is a terminal, so a progress bar may redraw its line.</summary>
    public bool ErrorIsTerminal { get; init; }

    /// <summary>Waits between two polls; null waits on <see cref="Time"/>. Tests advance a fake clock instead.</summary>
    public Func<TimeSpan, CancellationToken, Task>? Delay { get; init; }

    /// <summary>The handler of the HTTP API client; tests answer with canned responses.</summary>
    public Func<HttpMessageHandler> HttpHandler { get; init; } = () => new SocketsHttpHandler();

    public Task WaitAsync(TimeSpan delay, CancellationToken cancellationToken) =>
        Delay is { } delayed ? delayed(delay, cancellationToken) : Task.Delay(delay, Time, cancellationToken);

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

    /// <summary>The operation was refused by the current state (a conflict) or the database or server failed.</summary>
    public const int Failed = 1;

    /// <summary>A bad file, flag, name or cron expression: nothing was changed.</summary>
    public const int BadInput = 2;
}
