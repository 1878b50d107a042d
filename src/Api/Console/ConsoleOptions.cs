using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Api.OperatorConsole;

/// <summary>
/// The operator console's sign-in sessions and links (<c>Anchor:Console</c>; the timeline keys of the same section
/// belong to <see cref="Grains.Timeline.TimelineOptions"/>).
/// </summary>
public sealed class ConsoleOptions
{
    public const string SectionName = "Console";

    /// <summary>Minutes without a request after which a console sign-in ends.</summary>
    [Range(1, 24 * 60)]
    public int IdleMinutes { get; set; } = 30;

    /// <summary>Hours after sign-in at which a console sign-in ends, however busy.</summary>
    [Range(1, 24 * 7)]
    public int AbsoluteHours { get; set; } = 12;

    /// <summary>An absolute http(s) URL of the operators' Grafana, linked from every console page when set.</summary>
    public string? GrafanaUrl { get; set; }
}

/// <summary>Cross-field rules: the idle limit fits in the absolute one; Grafana's URL is an absolute http(s) URL.</summary>
public sealed class ConsoleOptionsValidator : IValidateOptions<ConsoleOptions>
{
    public ValidateOptionsResult Validate(string? name, ConsoleOptions options)
    {
        var failures = new List<string>();
        if (options.IdleMinutes > options.AbsoluteHours * 60)
        {
            failures.Add($"Anchor:Console:IdleMinutes ({options.IdleMinutes}) must not exceed Anchor:Console:AbsoluteHours ({options.AbsoluteHours}) in minutes.");
        }

        if (!string.IsNullOrEmpty(options.GrafanaUrl)
            && !(Uri.TryCreate(options.GrafanaUrl, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)))
        {
            failures.Add("Anchor:Console:GrafanaUrl must be an absolute http or https URL.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
