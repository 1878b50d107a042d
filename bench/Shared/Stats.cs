using System.Globalization;

namespace Anchor.Orleans.Bench.Shared;

/// <summary>Percentiles, ratios and slopes as every benchmark here reports them (nearest-rank percentiles).</summary>
public static class Stats
{
    /// <summary>The nearest-rank percentile (p in 0..100) of <paramref name="values"/>; 0 when empty.</summary>
    public static double Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    public static double Median(IEnumerable<double> values) => Percentile(values, 50);

    public static double P95(IEnumerable<double> values) => Percentile(values, 95);

    /// <summary>Least-squares slope of y over x (0 with fewer than two points).</summary>
    public static double Slope(IReadOnlyList<(double X, double Y)> points)
    {
        if (points.Count < 2)
        {
            return 0;
        }

        var mx = points.Average(p => p.X);
        var my = points.Average(p => p.Y);
        var den = points.Sum(p => (p.X - mx) * (p.X - mx));
        return den == 0 ? 0 : points.Sum(p => (p.X - mx) * (p.Y - my)) / den;
    }

    /// <summary>"12.3" with invariant culture.</summary>
    public static string F(double value, int decimals = 1) => value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    /// <summary>"1.23×" — a ratio of two latencies.</summary>
    public static string Ratio(double ours, double theirs) => theirs <= 0 ? "n/a" : F(ours / theirs, 2) + "×";
}
