namespace Djag.TestKit;

/// <summary>
/// Runs a cleanup when the process ends without disposing the server: normal exit, SIGTERM
/// (both raise ProcessExit) or an unhandled exception. Only SIGKILL escapes; <see cref="ScratchDirectory"/> covers that.
/// </summary>
internal sealed class ExitCleanup : IDisposable
{
    private readonly Action _cleanup;

    public ExitCleanup(Action cleanup)
    {
        _cleanup = cleanup;
        AppDomain.CurrentDomain.ProcessExit += OnExit;
        AppDomain.CurrentDomain.UnhandledException += OnExit;
    }

    public void Dispose()
    {
        AppDomain.CurrentDomain.ProcessExit -= OnExit;
        AppDomain.CurrentDomain.UnhandledException -= OnExit;
    }

    private void OnExit(object? sender, EventArgs e)
    {
        try
        {
            _cleanup();
        }
        catch (Exception)
        {
            // Best effort on the way out; there is no one left to report to.
        }
    }
}
