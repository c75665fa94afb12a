namespace Djag.Bench;

/// <summary>What to run and at which sizes: the full run of issue 8, or the smaller quick run that fits in 5 minutes on 2 cores.</summary>
internal sealed record BenchOptions
{
    public static readonly IReadOnlyList<string> Scenarios = ["floor", "lateness", "hop", "throughput", "recovery", "scale"];

    public bool Quick { get; init; }

    /// <summary>Tiny sizes that only show every scenario runs end to end (for changes to the bench itself); the figures mean nothing.</summary>
    public bool Smoke { get; init; }

    /// <summary>Scenarios to run; all when empty.</summary>
    public IReadOnlySet<string> Only { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Skips Hangfire (its recurring-job scheduler is the slowest part of a quick run).</summary>
    public bool SkipHangfire { get; init; }

    public int Workers { get; init; } = 4;

    public int FloorIterations => Smoke ? 200 : Quick ? 1_000 : 5_000;

    public IReadOnlyList<int> LatenessSizes => Smoke ? [20] : Quick ? [100, 1_000] : [100, 1_000, 10_000];

    /// <summary>Hangfire's recurring jobs at these sizes only: creating them and its scheduler are slow enough that 1,000 costs
    /// the quick run most of a minute.</summary>
    public IReadOnlyList<int> HangfireLatenessSizes => Smoke ? [20] : Quick ? [100] : [100, 1_000, 10_000];

    public int ChainLength => Smoke ? 10 : 100;

    public int FanWidth => Smoke ? 10 : Quick ? 200 : 1_000;

    /// <summary>Independent dependency chains run at once; more chains, more runs in flight, until the path saturates.</summary>
    public IReadOnlyList<int> ThroughputChains => Smoke ? [4] : Quick ? [16, 64] : [16, 64, 256];

    public int ThroughputChainLength => Smoke ? 5 : Quick ? 10 : 20;

    /// <remarks>Quick: 2,000, not 10,000: the write path's cost grows with the square of one change's size (see RESULTS.md),
    /// so 10,000 alone takes longer than the whole quick budget.</remarks>
    public int ScaleTasks => ScaleTasksOverride ?? (Smoke ? 500 : Quick ? 2_000 : 100_000);

    /// <summary><c>--scale N</c>: the scale scenario's task count instead of the size's default.</summary>
    public int? ScaleTasksOverride { get; init; }

    public bool Runs(string scenario) => Only.Count == 0 || Only.Contains(scenario);

    public static bool TryParse(string[] args, out BenchOptions options, out string? error)
    {
        options = new BenchOptions();
        error = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick":
                    options = options with { Quick = true };
                    break;
                case "--smoke":
                    options = options with { Quick = true, Smoke = true };
                    break;
                case "--no-hangfire":
                    options = options with { SkipHangfire = true };
                    break;
                case "--scale" when i + 1 < args.Length:
                    if (!int.TryParse(args[++i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var scale) || scale < 100)
                    {
                        error = $"--scale wants a task count of at least 100, not '{args[i]}'";
                        return false;
                    }

                    options = options with { ScaleTasksOverride = scale };
                    break;
                case "--only" when i + 1 < args.Length:
                    var only = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
                    var unknown = only.Except(Scenarios).ToList();
                    if (unknown.Count > 0)
                    {
                        error = $"unknown scenario {string.Join(", ", unknown)}; known: {string.Join(", ", Scenarios)}";
                        return false;
                    }

                    options = options with { Only = only };
                    break;
                default:
                    error = $"usage: djag-bench [--quick | --smoke] [--no-hangfire] [--scale N] [--only {string.Join(',', Scenarios)}]  (unknown argument '{args[i]}')";
                    return false;
            }
        }

        return true;
    }
}
