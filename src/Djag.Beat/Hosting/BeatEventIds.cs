namespace Djag.Beat.Hosting;

/// <summary>Event ids of the beat's log messages, in ranges per concern.</summary>
internal static class BeatEventIds
{
    // 1000-1099: start and stop
    public const int DatabaseReady = 1000;
    public const int NatsReady = 1001;

    // 1100-1199: dispatch
    public const int Dispatched = 1100;
    public const int Waiting = 1101;
    public const int Republished = 1102;
    public const int EvaluationFailed = 1103;
    public const int RetryDispatched = 1104;
    public const int ReleasedEvaluationFailed = 1105;

    // 1200-1299: worker reports
    public const int RunStarted = 1200;
    public const int RunFinished = 1201;
    public const int RunLost = 1202;
    public const int BadReport = 1203;
    public const int WatchFailed = 1204;
    public const int StaleReport = 1205;
    public const int RetryScheduled = 1206;

    // 3000-3099: the Quartz timing engine (Timing/TimingEventIds.cs)

    // 1300-1399: schedule changes
    public const int ChangesConsumed = 1300;
    public const int ListenFailed = 1301;
    public const int ChangeEvaluationFailed = 1302;
}
