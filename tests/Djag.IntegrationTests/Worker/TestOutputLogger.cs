using Microsoft.Extensions.Logging;

namespace Djag.IntegrationTests.Worker;

/// <summary>Sends an in-process worker's log to the test's output, so a failure shows what the worker saw.</summary>
internal sealed class TestOutputLoggerProvider : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) =>
        new TestOutputLogger(categoryName[(categoryName.LastIndexOf('.') + 1)..], categoryName.StartsWith("NATS", StringComparison.Ordinal) ? LogLevel.Warning : LogLevel.Information);

    public void Dispose()
    {
    }

    private sealed class TestOutputLogger(string category, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            try
            {
                TestContext.Current.TestOutputHelper?.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : $" {exception.GetType().Name}: {exception.Message}")}");
            }
            catch (InvalidOperationException)
            {
                // Logged after the test ended.
            }
        }
    }
}
