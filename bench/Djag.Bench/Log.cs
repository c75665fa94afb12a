using Microsoft.Extensions.Logging;

namespace Djag.Bench;

/// <summary>The bench's progress lines (stderr), source-generated.</summary>
internal static partial class Log
{
    [LoggerMessage(Level = LogLevel.Information, Message = "{Scenario}: starting")]
    public static partial void ScenarioStarting(ILogger logger, string scenario);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Scenario}: done in {Seconds:0.0} s")]
    public static partial void ScenarioDone(ILogger logger, string scenario, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Scenario} failed; its figures are reported as not measured")]
    public static partial void ScenarioFailed(ILogger logger, Exception exception, string scenario);

    [LoggerMessage(Level = LogLevel.Information, Message = "{What}")]
    public static partial void Step(ILogger logger, string what);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Prefix}*: {Count} triggers in place after {Seconds:0.0} s, {Spare:0.0} s before they fire")]
    public static partial void SetReady(ILogger logger, string prefix, int count, double seconds, double spare);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Prefix}*: the beat did not have all {Count} triggers in place {Ahead:0} s after the write; trying again further ahead")]
    public static partial void SetupTooLate(ILogger logger, string prefix, int count, double ahead);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Label}: CPU s over {Wall:0.0} s wall: beat {Beat:0.0}, workers {Workers:0.0}, nats {Nats:0.0}, postgres {Postgres:0.0}, bench {Bench:0.0}")]
    public static partial void Cpu(ILogger logger, string label, double wall, double beat, double workers, double nats, double postgres, double bench);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Label}: top statement {Calls} calls, {TotalMs:0} ms total, {MeanMs:0.000} ms mean: {Query}")]
    public static partial void Statement(ILogger logger, string label, long calls, double totalMs, double meanMs, string query);
}
