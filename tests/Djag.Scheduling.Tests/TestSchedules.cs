using NodaTime;

namespace Djag.Scheduling.Tests;

/// <summary>Small builders so each test states only what it is about.</summary>
internal static class TestSchedules
{
    public static readonly Instant T0 = Instant.FromUtc(2025, 1, 6, 12, 0, 0);

    public static Instant At(int hour, int minute, int second = 0) => Instant.FromUtc(2025, 1, 6, hour, minute, second);

    public static CronSchedule Cron(string expression, string zone = "UTC") => CronSchedule.Parse(expression, zone);

    public static TaskDefinition Task(
        string name,
        string cron = "* * * * *",
        MisfirePolicy misfire = MisfirePolicy.RunAll,
        int graceSeconds = 0,
        Instant? cronBase = null,
        int? maxCatchup = null,
        int? maxRunning = null) =>
        new(name, Cron(cron), cronBase ?? T0, misfire, Duration.FromSeconds(graceSeconds), maxCatchup, maxRunning);

    public static readonly IReadOnlyDictionary<string, DependeeStatus> NoDependees = new Dictionary<string, DependeeStatus>();

    public static TaskDecision Evaluate(TaskDefinition task, TaskState state, Instant now) =>
        TaskEvaluator.Evaluate(task, state, [], NoDependees, now);
}
