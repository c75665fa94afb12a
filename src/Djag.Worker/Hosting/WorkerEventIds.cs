namespace Djag.Worker.Hosting;

/// <summary>Event ids of the worker's log messages, in ranges per concern.</summary>
internal static class WorkerEventIds
{
    // 2000-2099: start and stop
    public const int WorkerStarted = 2000;
    public const int Drained = 2001;
    public const int GivingBackRuns = 2002;
    public const int GaveBackRun = 2003;
    public const int RunsLeftBehind = 2004;

    // 2100-2199: runs
    public const int RunStarted = 2100;
    public const int RunFinished = 2101;
    public const int DuplicateRun = 2102;
    public const int RunOwnedByOther = 2103;
    public const int UnreadableMessage = 2104;
    public const int RunAlreadyHere = 2105;
    public const int TaskIgnoredCancellation = 2106;
    public const int AckFailed = 2107;

    // 2200-2299: reports and heartbeats
    public const int ReportWriteFailed = 2200;
    public const int ReportStoredAfterRetry = 2201;
    public const int ReportNotStored = 2202;
    public const int HeartbeatFailed = 2203;
    public const int HeartbeatRestored = 2204;

    // 2300-2399: NATS
    public const int NatsDisconnected = 2300;
    public const int NatsReconnected = 2301;
    public const int FetchFailed = 2302;
    public const int FetchRestored = 2303;
    public const int DoorbellBroken = 2304;
    public const int DoorbellRefused = 2305;
}
