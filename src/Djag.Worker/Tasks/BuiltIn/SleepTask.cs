using System.Globalization;

namespace Djag.Worker.Tasks.BuiltIn;

/// <summary><c>djag.sleep</c>: waits the given (fractional) seconds; handy for tests and for probing timeouts.</summary>
internal sealed class SleepTask(TimeProvider time) : IDjagTask
{
    public const string Name = "djag.sleep";

    public async Task RunAsync(TaskContext context)
    {
        var args = context.Bind<SleepArgs>();
        if (!double.IsFinite(args.Seconds) || args.Seconds < 0 || args.Seconds > TimeSpan.MaxValue.TotalSeconds)
        {
            throw new TaskArgumentException(
                $"argument 'seconds': expected a non-negative number of seconds, got {args.Seconds.ToString(CultureInfo.InvariantCulture)}");
        }

        await Task.Delay(TimeSpan.FromSeconds(args.Seconds), time, context.CancellationToken);
        await context.Output.WriteLineAsync($"slept {args.Seconds.ToString(CultureInfo.InvariantCulture)} s");
    }
}

internal sealed record SleepArgs(double Seconds);
