namespace Djag.Contracts;

/// <summary>
/// The NATS stream, subjects and key-value buckets that the beat and the workers agree on. Both sides
/// create them if missing with the settings below, so either may start first.
/// </summary>
public static class DjagNames
{
    /// <summary>JetStream stream that holds dispatched runs: work-queue retention, file storage.</summary>
    public const string RunsStream = "DJAG_RUNS";

    /// <summary>Every subject of <see cref="RunsStream"/>.</summary>
    public const string RunsSubjects = "djag.runs.>";

    /// <summary>Window in which the stream drops a second publish of the same run id (the message id).</summary>
    public static readonly TimeSpan DuplicateWindow = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Priorities 0-255 fall into bands of 64; a worker drains higher bands of a queue first, so priority
    /// is honoured when work backs up. Band 3 holds 192-255, the most urgent.
    /// </summary>
    public const int PriorityBands = 4;

    /// <summary>Key-value bucket where workers report started and finished, keyed by run id.</summary>
    public const string RunReportsBucket = "djag_run_reports";

    /// <summary>How long a finished run's report stays in <see cref="RunReportsBucket"/>: long enough for a beat that was down to catch up.</summary>
    public static readonly TimeSpan RunReportsMaxAge = TimeSpan.FromDays(7);

    /// <summary>Key-value bucket where each worker heartbeats its presence; entries expire after <see cref="WorkerTtl"/>.</summary>
    public const string WorkersBucket = "djag_workers";

    /// <summary>A worker whose entry is older than this is gone: its runs are lost unless it reports again.</summary>
    public static readonly TimeSpan WorkerTtl = TimeSpan.FromSeconds(15);

    /// <summary>How often a worker heartbeats (well inside <see cref="WorkerTtl"/>).</summary>
    public static readonly TimeSpan WorkerHeartbeatInterval = TimeSpan.FromSeconds(3);

    /// <summary>The priority band (0-3) of a priority (0-255).</summary>
    public static int PriorityBand(int priority) => Math.Clamp(priority, 0, 255) / 64;

    /// <summary>The subject a run of <paramref name="queue"/> with <paramref name="priority"/> is published on: <c>djag.runs.default.p0</c>.</summary>
    public static string RunsSubject(string queue, int priority) => $"djag.runs.{queue}.p{PriorityBand(priority)}";

    /// <summary>The subject of one priority band of a queue, for a worker's consumer filter.</summary>
    public static string RunsSubjectOfBand(string queue, int band) => $"djag.runs.{queue}.p{band}";

    /// <summary>The durable consumer shared by every worker of a queue for one band, so each run goes to exactly one worker.</summary>
    public static string ConsumerName(string queue, int band) => $"djag-{queue}-p{band}";

    /// <summary>The key of a run in <see cref="RunReportsBucket"/>.</summary>
    public static string RunKey(long runId) => runId.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
