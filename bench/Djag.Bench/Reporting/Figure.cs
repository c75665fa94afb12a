using System.Globalization;

namespace Djag.Bench.Reporting;

/// <summary>A bound a figure must stay within: <c>&lt;= 200</c> or <c>&gt;= 2000</c>.</summary>
internal sealed record Target(bool AtMost, double Bound)
{
    public static Target Max(double bound) => new(true, bound);

    public static Target Min(double bound) => new(false, bound);

    public bool Holds(double value) => AtMost ? value <= Bound : value >= Bound;

    public override string ToString() => (AtMost ? "<= " : ">= ") + Bound.ToString("0.###", CultureInfo.InvariantCulture);
}

/// <summary>One measured number. A figure that could not be measured has no value and says why in <see cref="Note"/>.</summary>
internal sealed record Figure(string Name, double? Value, string Unit, Target? Target = null, string? Note = null)
{
    /// <summary>Null when no target applies; a figure that could not be measured does not hold.</summary>
    public bool? Holds => Target is null ? null : Value is { } v && !double.IsNaN(v) && Target.Holds(v);
}

/// <summary>Median, 99th percentile and maximum of a sample (nearest rank), with its size.</summary>
internal sealed record Distribution(double P50, double P99, double Max, int Count)
{
    public static Distribution Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            throw new InvalidOperationException("no samples to summarize");
        }

        return new Distribution(Rank(sorted, 0.50), Rank(sorted, 0.99), sorted[^1], sorted.Length);
    }

    private static double Rank(double[] sorted, double quantile) =>
        sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Length) - 1, 0, sorted.Length - 1)];
}
