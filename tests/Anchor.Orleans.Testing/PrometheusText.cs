using System.Globalization;
using System.Text.RegularExpressions;

namespace Anchor.Orleans.Testing;

/// <summary>Reads Prometheus exposition text: sums the samples of a metric whose labels include the given ones.</summary>
public static partial class PrometheusText
{
    public static double Sum(string text, string metric, params (string Name, string Value)[] labels)
    {
        var total = 0.0;
        foreach (Match m in Sample().Matches(text))
        {
            if (m.Groups["name"].Value != metric)
            {
                continue;
            }

            var present = Label().Matches(m.Groups["labels"].Value).ToDictionary(l => l.Groups[1].Value, l => l.Groups[2].Value);
            if (labels.All(l => present.TryGetValue(l.Name, out var v) && v == l.Value))
            {
                total += double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }

        return total;
    }

    public static bool Has(string text, string metric) =>
        Sample().Matches(text).Any(m => m.Groups["name"].Value == metric);

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})?\s+(?<value>[-+0-9.eE]+|NaN|\+Inf)(\s+\d+)?$", RegexOptions.Multiline)]
    private static partial Regex Sample();

    [GeneratedRegex("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"")]
    private static partial Regex Label();
}
