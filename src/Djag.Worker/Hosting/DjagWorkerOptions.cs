using Djag.Hosting.Nats;
using System.Text.RegularExpressions;

namespace Djag.Worker;

/// <summary>
/// The worker's settings. Each comes from appsettings.json (<c>"Queues"</c>), the environment
/// (<c>DJAG_QUEUES</c>) or the command line (<c>--queues default,reports</c>), later ones winning.
/// </summary>
public sealed partial class DjagWorkerOptions
{
    public const string DefaultNatsUrl = "nats://127.0.0.1:4222";
    public const string DefaultQueues = "default";
    public const int DefaultConcurrency = 4;
    public const int MaxConcurrency = 1024;

    /// <summary>NATS server URL, or several separated by commas (<c>DJAG_NATS_URL</c>).</summary>
    public string NatsUrl { get; set; } = DefaultNatsUrl;

    /// <summary>The queues this worker takes runs from, separated by commas (<c>--queues</c>, <c>DJAG_QUEUES</c>).</summary>
    public string Queues { get; set; } = DefaultQueues;

    /// <summary>How many runs this worker executes at once (<c>DJAG_CONCURRENCY</c>).</summary>
    public int Concurrency { get; set; } = DefaultConcurrency;

    /// <summary>
    /// This worker's name in heartbeats and reports (<c>DJAG_WORKER_ID</c>); default <c>&lt;hostname&gt;-&lt;pid&gt;</c>.
    /// It must be unique in the fleet.
    /// </summary>
    public string? WorkerId { get; set; }

    /// <summary>The consumers' ack wait; shared by the fleet, so not a setting (tests shorten it).</summary>
    internal TimeSpan AckWait { get; set; } = DjagNatsSetup.DefaultAckWait;

    /// <summary>
    /// How often an idle worker asks for runs although no doorbell rang: a run that comes back (a NAK, an expired
    /// ack wait) rings none. Not a setting (tests lengthen it to show that the doorbell alone wakes the worker).
    /// </summary>
    internal TimeSpan IdlePollInterval { get; set; } = TimeSpan.FromSeconds(1);

    internal IReadOnlyList<string> QueueList =>
        Queues.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    internal string EffectiveWorkerId => string.IsNullOrWhiteSpace(WorkerId) ? DefaultWorkerId() : WorkerId;

    /// <summary><c>&lt;hostname&gt;-&lt;pid&gt;</c> with every character a KV key may not hold replaced by '-'.</summary>
    internal static string DefaultWorkerId() =>
        NotKeyCharacter().Replace($"{Environment.MachineName}-{Environment.ProcessId}", "-");

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    internal static partial Regex QueueName();

    /// <summary>A NATS KV key: these characters, not starting or ending with '.'.</summary>
    [GeneratedRegex(@"^[A-Za-z0-9_=-]([A-Za-z0-9_=.-]{0,126}[A-Za-z0-9_=-])?$")]
    internal static partial Regex WorkerIdPattern();

    [GeneratedRegex("[^A-Za-z0-9_-]")]
    private static partial Regex NotKeyCharacter();
}
