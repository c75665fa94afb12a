using System.Text;
using Djag.Persistence.Operations;
using Djag.Persistence.Runs;

namespace Djag.Cli.Operate;

/// <summary>How far a backfill's runs are: counted from their views.</summary>
internal sealed record BackfillCounts(int Total, int Done, int Succeeded, int Failed, int Skipped)
{
    public bool Finished => Done == Total;

    public static BackfillCounts Of(int total, IEnumerable<RunView> runs)
    {
        int done = 0, succeeded = 0, failed = 0, skipped = 0;
        foreach (var run in runs)
        {
            switch (run.State)
            {
                case RunStates.Finished when run.Outcome == RunOutcomes.Success:
                    succeeded++;
                    done++;
                    break;
                case RunStates.Finished:
                    failed++;
                    done++;
                    break;
                case RunStates.Skipped or RunStates.Coalesced:
                    skipped++;
                    done++;
                    break;
            }
        }

        return new BackfillCounts(total, done, succeeded, failed, skipped);
    }

    public override string ToString() => $"{Done}/{Total} runs done: {Succeeded} succeeded, {Failed} failed, {Skipped} skipped";
}

/// <summary>
/// The progress bar on stderr: on a terminal one line redrawn in place with \r; otherwise (a log, a pipe) one
/// line per change, because carriage returns would pile up there.
/// </summary>
internal sealed class BackfillProgress(TextWriter error, bool terminal)
{
    private const int Width = 30;
    private BackfillCounts? _shown;

    public void Show(BackfillCounts counts)
    {
        if (counts == _shown)
        {
            return;
        }

        _shown = counts;
        if (terminal)
        {
            var filled = counts.Total == 0 ? Width : counts.Done * Width / counts.Total;
            var bar = new StringBuilder("\r[").Append('#', filled).Append('.', Width - filled).Append("] ").Append(counts);
            error.Write(bar.ToString());
            error.Flush();
        }
        else
        {
            error.WriteLine($"backfill: {counts}");
        }
    }

    /// <summary>Ends the redrawn line, so what follows starts on a line of its own.</summary>
    public void End()
    {
        if (terminal && _shown is not null)
        {
            error.WriteLine();
        }
    }
}
