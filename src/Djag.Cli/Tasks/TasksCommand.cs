using System.CommandLine;
using Djag.Cli.Connection;
using Djag.Cli.Output;
using Djag.Persistence.Operations;

namespace Djag.Cli.Tasks;

/// <summary><c>djag tasks list</c> and <c>djag tasks show NAME</c>.</summary>
internal static class TasksCommand
{
    public static Command Build(CliConsole console) => new("tasks", "List tasks and show one.") { List(console), Show(console) };

    private static Command List(CliConsole console)
    {
        var search = new Option<string?>("--search") { Description = "Only tasks whose name or task contains this text (any case)." };
        var enabled = new Option<bool?>("--enabled") { Description = "Only enabled (true) or disabled (false) tasks." };
        var running = new Option<bool?>("--running") { Description = "Only tasks with (true) or without (false) a run in flight." };
        var sort = new Option<string>("--sort") { Description = $"Sort key: {string.Join(", ", TaskQuery.SortKeys)}.", DefaultValueFactory = _ => "name" };
        var descending = new Option<bool>("--desc") { Description = "Sort descending." };
        var limit = new Option<int>("--limit") { Description = $"At most this many tasks (1-{DatabaseOperations.MaxLimit}).", DefaultValueFactory = _ => 50 };
        var offset = new Option<int>("--offset") { Description = "Skip this many tasks first." };
        var format = OutputFormatOption.Create();
        var command = new Command("list", "List tasks with their schedule, state and next fire time (UTC).")
        {
            search, enabled, running, sort, descending, limit, offset, format,
        };
        var connection = ConnectionOptions.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => CommandRunner.RunAsync(console, parseResult, connection, async operations =>
        {
            var query = new TaskQuery(
                parseResult.GetValue(search), parseResult.GetValue(enabled), parseResult.GetValue(running),
                parseResult.GetValue(sort) ?? "name", parseResult.GetValue(descending), parseResult.GetValue(offset), parseResult.GetValue(limit));
            var page = await operations.ListTasksAsync(query, cancellationToken);
            if (OutputFormatOption.Get(parseResult, format) == OutputFormat.JsonLines)
            {
                JsonLines.Write(console.Out, page.Items);
                return ExitCodes.Ok;
            }

            var table = new Table("NAME", "TASK", "CRON", "TIMEZONE", "ENABLED", "STATE", "RUNNING", "LAST START", "NEXT FIRE", "RUNS");
            foreach (var t in page.Items)
            {
                table.Add(t.Name, t.Task, t.Crontab, t.Timezone, Text.YesNo(t.Enabled), t.State, Text.Number(t.Running),
                    Text.Time(t.LastCronStart), Text.Time(t.NextFire), Text.Number(t.TotalRunCount));
            }

            table.Write(console.Out, "(no tasks)");
            PageFooter.Write(console.Out, page, "tasks");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Show(CliConsole console)
    {
        var name = new Argument<string>("name") { Description = "The task's name." };
        var command = new Command("show", "Show everything a task is configured with, its state and its dependencies.") { name };
        var connection = ConnectionOptions.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => CommandRunner.RunAsync(console, parseResult, connection, async operations =>
        {
            Print(console.Out, await operations.GetTaskAsync(parseResult.GetRequiredValue(name), cancellationToken));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static void Print(TextWriter output, TaskDetail task)
    {
        var t = task.Summary;
        new Fields()
            .Add("name", t.Name)
            .Add("task", t.Task)
            .Add("cron", $"{t.Crontab} ({t.Timezone})")
            .Add("enabled", Text.YesNo(t.Enabled))
            .Add("state", t.State)
            .Add("running", $"{t.Running} (max {Text.Number(task.MaxRunning)})")
            .Add("next fire", Text.Time(t.NextFire))
            .Add("last cron", Text.Time(t.LastCron))
            .Add("last start", Text.Time(t.LastCronStart))
            .Add("last end", Text.Time(t.LastCronEnd))
            .Add("total runs", Text.Number(t.TotalRunCount))
            .Add("cron base", Text.Time(task.CronBase))
            .Add("misfire", $"{task.Misfire} (grace {Text.Seconds(task.GracePeriod)}, max catchup {Text.Number(task.MaxCatchup)})")
            .Add("retries", $"{task.MaxRetries} (backoff {Text.Seconds(task.RetryBackoff)})")
            .Add("timeout", Text.Seconds(task.Timeout))
            .Add("queue", $"{task.Queue} (priority {task.Priority})")
            .Add("args", task.Args)
            .Add("kwargs", task.Kwargs)
            .Add("headers", task.Headers)
            .Add("description", task.Description)
            .Add("changed", Text.Time(task.DateChanged))
            .Add("depends on", Edges(task.DependsOn, e => e.Dependee))
            .Add("depended on by", Edges(task.DependedBy, e => e.Depender))
            .Write(output);
    }

    /// <summary>"load (success), cleanup (success, future)".</summary>
    private static string Edges(IReadOnlyList<DependencyView> edges, Func<DependencyView, string> other) =>
        string.Join(", ", edges.Select(e => $"{other(e)} ({e.Condition}{(e.FutureDepends ? ", future" : "")})"));
}
