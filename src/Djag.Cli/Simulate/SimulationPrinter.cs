using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Djag.Scheduling;
using Djag.Scheduling.ScheduleFiles;

namespace Djag.Cli.Simulate;

internal enum SimulationFormat
{
    Table,
    JsonLines,
}

internal static class SimulationPrinter
{
    private static readonly string[] Header = ["AT", "TASK", "CRON", "KIND", "OUTCOME", "REASON"];

    public static void Print(TextWriter output, IEnumerable<SimulationEvent> events, SimulationFormat format)
    {
        if (format == SimulationFormat.JsonLines)
        {
            PrintJsonLines(output, events);
        }
        else
        {
            PrintTable(output, events);
        }
    }

    public static string Kind(SimulationEventKind kind) => kind switch
    {
        SimulationEventKind.Dispatched => "dispatched",
        SimulationEventKind.Finished => "finished",
        SimulationEventKind.Skipped => "skipped",
        SimulationEventKind.Coalesced => "coalesced",
        SimulationEventKind.Waiting => "waiting",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static string? Outcome(RunOutcome? outcome) => outcome switch
    {
        RunOutcome.Success => "success",
        RunOutcome.Failure => "failure",
        null => null,
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, null),
    };

    // Streamed: a long simulation prints as it goes.
    private static void PrintJsonLines(TextWriter output, IEnumerable<SimulationEvent> events)
    {
        var buffer = new ArrayBufferWriter<byte>();
        // Relaxed escaping keeps quotes and '+' readable; the lines are for terminals and tools, never HTML.
        using var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        foreach (var e in events)
        {
            buffer.ResetWrittenCount();
            writer.Reset(buffer);
            writer.WriteStartObject();
            writer.WriteString("at", IsoInstant.Format(e.At));
            writer.WriteString("task", e.Task);
            writer.WriteString("cron", IsoInstant.Format(e.Cron));
            writer.WriteString("kind", Kind(e.Kind));
            if (Outcome(e.Outcome) is { } outcome)
            {
                writer.WriteString("outcome", outcome);
            }

            if (e.Reason is { } reason)
            {
                writer.WriteString("reason", reason);
            }

            writer.WriteEndObject();
            writer.Flush();
            output.WriteLine(Encoding.UTF8.GetString(buffer.WrittenSpan));
        }
    }

    private static void PrintTable(TextWriter output, IEnumerable<SimulationEvent> events)
    {
        var rows = events
            .Select(e => new[] { IsoInstant.Format(e.At), e.Task, IsoInstant.Format(e.Cron), Kind(e.Kind), Outcome(e.Outcome) ?? "", e.Reason ?? "" })
            .ToList();
        var widths = Header.Select((h, i) => rows.Aggregate(h.Length, (w, row) => Math.Max(w, row[i].Length))).ToArray();
        WriteRow(output, Header, widths);
        foreach (var row in rows)
        {
            WriteRow(output, row, widths);
        }

        if (rows.Count == 0)
        {
            output.WriteLine("(no events)");
        }
    }

    private static void WriteRow(TextWriter output, string[] cells, int[] widths)
    {
        var line = new StringBuilder();
        for (var i = 0; i < cells.Length; i++)
        {
            line.Append(i == cells.Length - 1 ? cells[i] : cells[i].PadRight(widths[i] + 2));
        }

        output.WriteLine(line.ToString().TrimEnd());
    }
}
