using System.CommandLine;
using Djag.Scheduling;
using Djag.Scheduling.ScheduleFiles;
using NodaTime;

namespace Djag.Cli.Simulate;

/// <summary><c>djag simulate</c>: replays a schedule file through the core <see cref="Simulator"/> and prints its events.</summary>
internal static class SimulateCommand
{
    public static Command Build(CliConsole console)
    {
        var file = new Argument<string>("file") { Description = "Schedule file (YAML, or JSON: *.json or starting with '{')." };
        var from = new Option<string?>("--from") { Description = "Start of the simulated range (inclusive), ISO-8601; overrides simulate.from." };
        var to = new Option<string?>("--to") { Description = "End of the simulated range (exclusive), ISO-8601; overrides simulate.to." };
        var format = new Option<string>("--format")
        {
            Description = "table (aligned columns) or jsonl (one JSON object per event).",
            DefaultValueFactory = _ => "table",
        };
        format.AcceptOnlyFromAmong("table", "jsonl");

        var command = new Command("simulate", """
            Simulate the schedule over [from, to) and print every event in time order: dispatched, finished,
            skipped, coalesced, waiting. Times are UTC.
            The simulation starts with no run history. Beat downtime comes from simulate.beat_down.
            Defaults: a task without a simulate.runs entry runs for 0 s and always succeeds (a 0 s run finishes
            at the instant it starts); a task without cron_base counts its events from --from; a disabled task
            never runs, and its dependers wait on it.
            """)
        {
            file,
            from,
            to,
            format,
        };
        command.SetAction((parseResult, cancellationToken) => RunAsync(
            console,
            parseResult.GetRequiredValue(file),
            parseResult.GetValue(from),
            parseResult.GetValue(to),
            parseResult.GetValue(format) == "jsonl" ? SimulationFormat.JsonLines : SimulationFormat.Table,
            cancellationToken));
        return command;
    }

    internal static async Task<int> RunAsync(
        CliConsole console, string path, string? fromFlag, string? toFlag, SimulationFormat format, CancellationToken cancellationToken)
    {
        Instant? from = null, to = null;
        if (fromFlag is not null)
        {
            if (!IsoInstant.TryParse(fromFlag, out var f))
            {
                return console.BadInput($"--from: '{fromFlag}' is not {IsoInstant.Expected}");
            }

            from = f;
        }

        if (toFlag is not null)
        {
            if (!IsoInstant.TryParse(toFlag, out var t))
            {
                return console.BadInput($"--to: '{toFlag}' is not {IsoInstant.Expected}");
            }

            to = t;
        }

        var (document, exit) = await ScheduleFileInput.LoadAsync(console, path, cancellationToken);
        if (document is null)
        {
            return exit;
        }

        from ??= document.Simulate?.From;
        to ??= document.Simulate?.To;
        if (from is not { } start)
        {
            return console.BadInput($"no start: pass --from or set simulate.from in {path}");
        }

        if (to is not { } end)
        {
            return console.BadInput($"no end: pass --to or set simulate.to in {path}");
        }

        if (end <= start)
        {
            return console.BadInput($"the range is empty: to ({IsoInstant.Format(end)}) must be after from ({IsoInstant.Format(start)})");
        }

        var input = ToInput(document, start, end);
        var events = Simulator.Run(input);
        SimulationPrinter.Print(console.Out, events, format);
        return ExitCodes.Ok;
    }

    /// <summary>Simulated tasks are created when the simulation starts: that is the cron_base of those that set none.</summary>
    private static SimulationInput ToInput(ScheduleDocument document, Instant from, Instant to)
    {
        var runs = document.Simulate?.Runs.ToDictionary(r => r.Task, StringComparer.Ordinal) ?? [];
        var tasks = document.Tasks
            .Where(t => t.Enabled)
            .Select(t => runs.TryGetValue(t.Name, out var r)
                ? new SimulationTask(t.ToDefinition(from), r.Duration, r.Outcomes)
                : new SimulationTask(t.ToDefinition(from)))
            .ToList();
        return new SimulationInput(tasks, document.Edges(), from, to, document.Simulate?.BeatDown ?? []);
    }
}
