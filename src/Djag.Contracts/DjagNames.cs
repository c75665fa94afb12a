namespace Djag.Contracts;

/// <summary>The NATS stream, subject and key-value bucket names that the beat and the workers agree on.</summary>
public static class DjagNames
{
    /// <summary>JetStream stream that holds dispatched runs (work-queue retention).</summary>
    public const string RunsStream = "DJAG_RUNS";

    /// <summary>Subject prefix of dispatched runs; the queue name follows it (<c>djag.runs.default</c>).</summary>
    public const string RunsSubjectPrefix = "djag.runs.";

    /// <summary>Key-value bucket where workers report started, heartbeat and finished, keyed by run id.</summary>
    public const string RunReportsBucket = "djag_run_reports";

    /// <summary>Key-value bucket where each worker heartbeats its presence (entries expire with a TTL).</summary>
    public const string WorkersBucket = "djag_workers";

    /// <summary>The subject a run dispatched to <paramref name="queue"/> is published on.</summary>
    public static string RunsSubject(string queue) => RunsSubjectPrefix + queue;
}
