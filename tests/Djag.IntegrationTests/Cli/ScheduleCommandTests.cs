using Djag.Cli;
using Djag.IntegrationTests.Apply;
using Djag.IntegrationTests.Infrastructure;
using Djag.IntegrationTests.Persistence;

namespace Djag.IntegrationTests.Cli;

/// <summary>
/// Schedules as code: <c>djag export</c> and <c>djag apply</c> together, and the files apply refuses (the other
/// apply cases are in Apply/ApplyCommandTests).
/// </summary>
public sealed class ScheduleCommandTests(ServersFixture servers) : IDisposable
{
    private static readonly string[] ScheduleTables = ["crontabs", "periodic_tasks", "task_dependencies", "user_actions"];

    private readonly DirectoryInfo _files = Directory.CreateTempSubdirectory("djag-cli-");

    public void Dispose() => _files.Delete(recursive: true);

    [Theory]
    [InlineData("yaml")]
    [InlineData("json")]
    public async Task Export_then_apply_changes_nothing(string format)
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        Assert.Equal(ExitCodes.Ok, (await ApplyRunner.Run(db, ApplyRunner.Example("etl.yaml"))).ExitCode);
        await CliData.ChainAsync(db); // tasks with more fields set, a completion edge and a disabled task
        var before = await CountsAsync(db);
        db.Clock.Advance(TimeSpan.FromDays(1));

        var export = await CliRunner.RunAsync(db, "export", "--format", format);
        var file = Write($"exported.{format}", export.Out);
        var apply = await CliRunner.RunAsync(db, "apply", file);

        Assert.Equal((ExitCodes.Ok, ""), (export.ExitCode, export.Error));
        Assert.Equal(format == "json", export.Out.StartsWith('{'));
        Assert.Contains("audit", export.Out, StringComparison.Ordinal);
        Assert.Equal((ExitCodes.Ok, "no changes\ntasks: 0 added, 0 changed, 0 removed; dependencies: 0 added, 0 changed, 0 removed\n"), (apply.ExitCode, apply.Out));
        Assert.Equal(before, await CountsAsync(db));

        // Even pruning against the export changes nothing: it holds every task and edge.
        Assert.StartsWith("no changes\n", (await CliRunner.RunAsync(db, "apply", file, "--prune")).Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_into_an_empty_database_recreates_the_schedule()
    {
        var source = await TestDatabase.CreateAsync(servers, "cli");
        var target = await TestDatabase.CreateAsync(servers, "cli");
        await CliData.ChainAsync(source);
        var file = Write("schedule.yaml", (await CliRunner.RunAsync(source, "export")).Out);

        var apply = await CliRunner.RunAsync(target, "apply", file);

        Assert.Equal((ExitCodes.Ok, ""), (apply.ExitCode, apply.Error));
        Assert.EndsWith("tasks: 5 added, 0 changed, 0 removed; dependencies: 3 added, 0 changed, 0 removed\n", apply.Out, StringComparison.Ordinal);
        Assert.Equal((await CliRunner.RunAsync(source, "export")).Out, (await CliRunner.RunAsync(target, "export")).Out);
    }

    [Theory]
    [InlineData("bad_timezone", "tasks:\n  - {name: a, task: etl.a, cron: \"0 * * * *\", timezone: Mars/Olympus}\n", "tasks[0].timezone: 'Mars/Olympus'")]
    [InlineData("malformed", "tasks:\n  - {name: a, task: etl.a\n", "")]
    [InlineData("bad_cron", "tasks:\n  - {name: a, task: etl.a, cron: \"0 25 * * *\"}\n", "tasks[0].cron: hour: '25'")]
    [InlineData("cycle", "tasks:\n  - {name: a, task: etl.a, cron: \"0 * * * *\"}\n  - {name: b, task: etl.b, cron: \"0 * * * *\"}\ndependencies:\n  - {depender: a, dependee: b}\n  - {depender: b, dependee: a}\n", "dependencies: cycle a -> b -> a")]
    public async Task A_refused_file_exits_2_naming_the_field_and_saves_nothing(string name, string text, string expected)
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        await CliData.ChainAsync(db);
        var before = await CountsAsync(db);
        var file = Write(name + ".yaml", text);

        var run = await CliRunner.RunAsync(db, "apply", file, "--prune");

        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.StartsWith($"error: {file}: {expected}", run.Error, StringComparison.Ordinal);
        Assert.Equal("", run.Out);
        Assert.Equal(before, await CountsAsync(db));
    }

    [Fact]
    public async Task A_missing_file_exits_2()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");

        var run = await CliRunner.RunAsync(db, "apply", Path.Combine(_files.FullName, "absent.yaml"));

        Assert.Equal((ExitCodes.BadInput, $"error: {Path.Combine(_files.FullName, "absent.yaml")}: no such file\n"), (run.ExitCode, run.Error));
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_files.FullName, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static async Task<long[]> CountsAsync(TestDatabase db)
    {
        var counts = new List<long>();
        foreach (var table in ScheduleTables)
        {
            counts.Add(await db.CountAsync(table));
        }

        return [.. counts];
    }
}
