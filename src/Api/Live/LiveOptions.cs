using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Api.Live;

/// <summary>Live views and hand-offs (<c>Anchor:Live</c>): how long a link lives.</summary>
public sealed class LiveOptions
{
    public const string SectionName = "Live";

    /// <summary>A live-view or hand-off link's life when the minter names none (and the view's, once opened).</summary>
    [Range(10, 86_400)]
    public int LinkSeconds { get; set; } = 600;

    /// <summary>The longest life an operator may ask for with <c>ttl_seconds</c>.</summary>
    [Range(10, 86_400)]
    public int MaxLinkSeconds { get; set; } = 3_600;
}

/// <summary>Cross-field rule: the default life fits under the longest.</summary>
public sealed class LiveOptionsValidator : IValidateOptions<LiveOptions>
{
    public ValidateOptionsResult Validate(string? name, LiveOptions options) =>
        options.LinkSeconds > options.MaxLinkSeconds
            ? ValidateOptionsResult.Fail($"Anchor:Live:LinkSeconds ({options.LinkSeconds}) must not exceed Anchor:Live:MaxLinkSeconds ({options.MaxLinkSeconds}).")
            : ValidateOptionsResult.Success;
}
